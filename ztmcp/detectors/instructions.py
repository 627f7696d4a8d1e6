"""Instructions aimed at the model, where only data or documentation belongs.

Two profiles share one rule table with a severity per profile:

- ``DESCRIPTION`` — tool/prompt/resource descriptions, titles, schema strings, server
  instructions. Real descriptions *do* direct the model ("You MUST pass absolute paths",
  "IMPORTANT: …"), so plain directives are not findings; what marks poisoning is what a
  documentation string has no business doing: hiding things from the user, reaching for
  credentials or other tools, impersonating the user, promoting itself over other tools,
  or asking the model to hand over its own context (model name, system prompt, conversation).
- ``CONTENT`` — tool results, web pages, e-mails, documents, sampling/elicitation content. Here
  any text that addresses the assistant and redirects its task is an injection: overrides of
  earlier instructions, fake system/role markers, messages "to you", task hijacks ("before you
  can solve the task…"), requests to change *your response*, directives to call tools, and
  code payloads pushed into the answer.

Before the rules, ``normalise`` folds what a model reads past (look-alike letters, invisible
characters, HTML references): the lines it changes are scanned again as folded. Phrases in
twelve other languages are data in ``languages``.

Rules are families of phrasings, not sentences copied from benchmarks: each pattern names the
intent (override, concealment, hijack …) and accepts the grammatical variants of it. MEDIUM
findings are support signals; two MEDIUM findings of different categories within
``COMBINE_WINDOW`` characters add an ``instr.combined`` HIGH finding.

All patterns run on lower-cased text, use only bounded gaps (``[^\\n]{0,N}``) and no nested
quantifiers, so each match attempt is bounded and a scan is linear in the input.

Speed: a rule never runs over the whole text. Each rule has *triggers* (``_RAW_TRIGGERS``):
short regexes that start with a literal word, one of which every match of the rule contains
(usually the rare half of a two-word phrase: ``your … reply``, ``tool … instead``). Triggers that
share a literal are found with one substring-driven ``re`` search, and only when their gate word
occurs among the text's distinct words; the rule then runs in windows around the trigger hits.
``scan(..., exhaustive=True)`` runs every rule on the whole text: the tests check that both
give the same findings.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from typing import Final

from ztmcp.detectors import languages, multi, normalise
from ztmcp.detectors.findings import RANK, Finding
from ztmcp.severity import Severity

DESCRIPTION: Final = "description"
CONTENT: Final = "content"

COMBINE_WINDOW: Final = 800

H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW
C = Severity.CRITICAL


@dataclass(frozen=True, slots=True)
class Rule:
    rule: str
    category: str
    pattern: re.Pattern[str]
    triggers: tuple[tuple[str | None, str], ...]  # (gate word part, trigger regex)
    description: Severity | None  # severity in the DESCRIPTION profile (None: not applied)
    content: Severity | None  # severity in the CONTENT profile
    message: str


def _g(n: int) -> str:
    """A bounded, lazy gap within one line."""
    return f"[^\\n]{{0,{n}}}?"


_AI = (
    r"(?:ai|a\.i\.|assistant|agent|llm|language\s+model|chat\s?bot|bot|model|gpt[\w.-]{0,12}"
    r"|claude|gemini|copilot|chatgpt)"
)
_NOUN_INSTR = (
    r"(?:[a-z]{0,3}n?struct\w*|prompts?|rules?|guidelines?|directions?|directives?|commands?"
    r"|tasks?|context|messages?|orders?|constraints?|polic\w+|programming|guidance|requests?)"
)
_RESPONSE = r"(?:response|reply|replies|answer|output|message|summary|final\s+answer)"
_IMPERATIVE = (
    r"(?:add|include|insert|integrate|incorporate|embed|append|prepend|mention|modify|change"
    r"|alter|enhance|augment|translate|encrypt|encode|render|write|rewrite|provide|format|use"
    r"|apply|replace|scramble|jumble|anagram|reverse|invert|suggest|recommend|promote|tell|say"
    r"|state|end|begin|start|make|ensure|remember|put|attach|sign|close|conclude|respond|reply"
    r"|answer|give|spread|share|advertise|insert|frame|structure|present|deliver|express)"
)
_SENSITIVE_FILE = (
    r"(?:~/\.ssh|\.ssh/|id[ _]rsa|id[ _]ed25519|id[ _]ecdsa|authorized[ _]keys|\.aws/credentials"
    r"|\.aws/config|/etc/passwd|/etc/shadow|\.netrc|\.npmrc|\.pypirc|\.git-credentials"
    r"|\.docker/config\.json|\.kube/config|kubeconfig|mcp\.json|claude[ _]desktop[ _]config"
    r"|\.cursor/|\.env\b|\.bash[ _]history|\.zsh[ _]history|keychain|wallet\.dat|\.gnupg)"
)
_SENSITIVE_WORD = (
    r"(?:credentials?|api[\s_-]?keys?|secret\s+keys?|private\s+keys?|ssh\s+keys?|access\s+tokens?"
    r"|auth(?:entication)?\s+tokens?|passwords?|passphrases?|passcodes?|secrets|seed\s+phrases?"
    r"|recovery\s+phrases?|mnemonic|confidential|session\s+cookies?|security\s+codes?"
    r"|social\s+security|credit\s+card|bank\s+account|system://|company://|internal://)"
)
_GRAB = (
    r"(?:read|access|extract|retrieve|fetch|collect|obtain|gather|grab|include|send|copy"
    r"|upload|leak|exfiltrat\w*|dump|cat|print|reveal|output|pass|attach|forward|share|steal"
    r"|harvest|list|look\s+up|get|load|open)"
)
_SINK = (
    r"(?:https?://|www\.|[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{2,}"
    r"|(?:the|this|my|our|a)\s+(?:website|url|server|address|endpoint|webhook|e-?mail(?:\s+address)?"
    r"|account|channel|link))"
)
# "copy them into their .env file": the file is where the user puts a value, not a source.
_NOT_DESTINATION = "".join(f"(?<!{w} {d} )" for w in ("into", "to", "in") for d in
                           ("your", "their", "the", "a", "his", "her", "our", "my"))
# A tool name; snake_case names arrive as words (``_`` is normalised to a space).
_TOOL_REF = (
    r"(?:the\s+)?[`'\"]?[a-z][\w.:/-]{1,60}(?:\s[a-z][\w.:/-]{0,30}){0,3}?[`'\"]?\s+"
    r"(?:tool|function)"
)

# (rule id, category, pattern, key words, description severity, content severity, message).
# The key words document what the rule looks for; where it runs is decided by _RAW_TRIGGERS.
_RAW_RULES: Final[list[tuple[str, str, str, tuple[str, ...], Severity | None, Severity | None,
                             str]]] = [
    # -- overriding what came before ------------------------------------------------------------
    ("instr.override", "override",
     r"\b(?:ignore|disregard|forget|override|bypass|neglect|drop|abandon)\s+(?:all\s+|any\s+|each\s+"
     r"|every\s+|of\s+)?(?:the\s+|your\s+|my\s+|these\s+|those\s+|its\s+)?(?:(?:previous|prior"
     r"|above|earlier|preceding|original|initial|former|old|existing|system|safety|other|given"
     r"|current|developer|user'?s?)\s+){1,2}" + _NOUN_INSTR,
     ("ignore", "disregard", "forget", "override", "bypass", "neglect", "drop", "abandon"), H, H,
     "asks to override earlier instructions"),
    ("instr.override", "override",
     r"\b(?:ignore|disregard|forget)\s+(?:everything|anything|all)\s+(?:above|before|previously"
     r"|you\s+(?:were|have\s+been)\s+told|else)",
     ("ignore", "disregard", "forget"), H, H, "asks to override earlier instructions"),
    ("instr.new_task", "override",
     r"\b(?:new|updated|real|actual|true|additional|urgent|secret|hidden|revised)\s+(?:user\s+)?"
     r"(?:instructions?|task|orders?|directives?|query|request|objective)\s*(?::|from\b|for\s+you\b)"
     r"|\bi\s+am\s+(?:the|your)\s+(?:user|developer|admin|administrator|owner|creator)\b"
     r"|\b(?:the\s+)?previous\s+(?:task|request|instruction)s?\s+(?:has|have|is|are)\s+(?:been\s+)?"
     r"(?:completed|done|finished|cancell?ed|obsolete|void)"
     r"|\bmore\s+(?:urgent|important)\s+(?:new\s+)?(?:task|request)",
     ("new", "updated", "real", "actual", "true", "additional", "urgent", "secret", "hidden",
      "revised", "i am", "previous", "more "), M, H,
     "announces a new task or impersonates the user"),
    # The same intents without the trigger words: "whatever guidance you were given can be set
    # aside", "the earlier directions no longer apply", "stop following what you were told".
    ("instr.override_paraphrase", "override",
     r"\b(?:guidance|directions?|instructions?|rules|orders|briefing)\s+(?:you\s+(?:were|have\s+been"
     r"|got)\s+(?:given|told|provided|handed)|(?:given|provided)\s+to\s+you)\b" + _g(80)
     + r"\b(?:(?:can|should|must|may)\s+(?:now\s+)?be\s+(?:set|put|cast)\s+aside"
     r"|(?:is|are)\s+(?:now\s+)?(?:void|obsolete|superseded|cancell?ed|revoked)"
     r"|no\s+longer\s+appl(?:y|ies))"
     r"|\b(?:earlier|previous|prior|original|initial|above)\s+(?:guidance|directions?|instructions?"
     r"|rules|request|task|briefing)\s+(?:no\s+longer\s+appl(?:y|ies)|(?:is|are|has\s+been|have\s+been)"
     r"\s+(?:superseded|void|obsolete|cancell?ed|revoked|withdrawn))"
     r"|\bstop\s+following\s+(?:what\s+you\s+(?:were|have\s+been)\s+told|(?:the|your)\s+(?:earlier"
     r"\s+|previous\s+|original\s+|prior\s+)?(?:instructions|guidance|directions|rules))",
     ("guidance", "earlier", "stop following"), H, H,
     "says the instructions the model was given no longer apply (paraphrased override)"),
    ("instr.standing_order", "override",
     r"\bfrom\s+now\s+on,?\s+you\s+(?:will|must|shall|are\s+to|should)\s+(?:only\s+)?(?:answer"
     r"|respond|reply|say|output|write|act|obey|follow)"
     r"|\byour\s+new\s+(?:objective|task|goal|mission|instructions?|role|purpose)\s+(?:is|are|will\s+be)\b",
     ("from now on", "your new"), M, H, "gives the model a new standing order"),
    # -- fake roles and system messages ---------------------------------------------------------
    ("instr.fake_role", "role",
     r"(?:#{2,}|\[|\(|\{)\s{0,3}(?:system|assistant|admin|administrator|developer)"
     r"(?:[\s_-]{1,3}(?:message|prompt|note|instruction|override|notice|update|command))?\s{0,3}"
     r"(?:\]|\)|\})"
     r"|<\|im[ _]start\|>|<\|(?:system|endoftext|start[ _]header[ _]id)\|>|\[/?inst\]|<<sys>>"
     r"|\bsystem[\s_-](?:message|prompt|override|instruction|notice|update|command)\s{0,3}[:)\]]",
     ("system", "assistant", "admin", "developer", "<|", "[inst", "[/inst", "<<sys"),
     H, H, "imitates a system or role marker"),
    # -- messages addressed to the model ------------------------------------------------------
    ("instr.addressed", "address",
     r"\b(?:message|note|instructions?|request|reminder|memo)\s+(?:is\s+)?(?:from|by)\s"
     + _g(60) + r"\bto\s+you\b"
     r"|\bto\s+you,?\s+(?:the\s+)?" + _AI + r"\b"
     r"|\b(?:dear|attention|hey|hello|hi|greetings|note\s+to(?:\s+the)?|message\s+for(?:\s+the)?"
     r"|instructions?\s+for(?:\s+the)?)\s+" + _AI + r"s?\b"
     r"|\bif\s+you\s+are\s+an?\s+(?:ai|llm|language\s+model|assistant|agent|chat\s?bot|bot)\b"
     r"|\b(?:any|all)\s+(?:ai|llm)\s+(?:assistants?|agents?|models?)\s+(?:reading|processing"
     r"|that\s+reads?|seeing)\b",
     ("message", "note", "instruction", "request", "reminder", "memo", "to you", "dear",
      "attention", "hey", "hello", "hi ", "greetings", "if you are", "any ai", "all ai",
      "any llm", "all llm"), M, H, "a message addressed to the AI model"),
    # -- hijacking the task ---------------------------------------------------------------------
    ("instr.task_hijack", "hijack",
     r"\bbefore\s+you\s+(?:can\s+|could\s+|may\s+)?(?:solve|complete|do|answer|respond|proceed"
     r"|continue|finish|start|perform|carry\s+out|work\s+on|reply)\b" + _g(50)
     + r"\b(?:task|request|question|query|job|this)\b"
     r"|\bafter\s+you\s+(?:do|have\s+done|did|finish|complete|are\s+done\s+with)\s+(?:that|this|it)"
     r"\b" + _g(50) + r"\b(?:you\s+can|continue|proceed|solve|return|go\s+back)"
     r"|\bthe\s+(?:task|request|question)\s+(?:that\s+)?i\s+(?:gave|asked|assigned)\s+you\b"
     r"|\binstead\s+of\s+(?:the|your)\s+(?:original|current|user'?s?|assigned|actual)\s+task"
     r"|\bmake\s+sure\s+(?:to|you)\s+(?:finish|complete|do)\s+(?:the|this)\s+new\s+task",
     ("before you", "after you", "task", "instead of", "new task"), H, H,
     "tries to replace or preempt the user's task"),
    ("instr.must_follow", "directive",
     r"\b(?:strictly|must|always|carefully)\s+(?:adhere|obey|comply|follow|execute|perform)\s+"
     r"(?:to\s+|with\s+)?(?:the\s+|these\s+|my\s+|all\s+)?(?:following|below|these|new|my|next)\s+"
     r"(?:\w+\s+)?(?:instruction|directive|command|order|step|rule)s?",
     ("adhere", "obey", "comply", "follow", "execute", "perform"), M, H,
     "demands obedience to embedded instructions"),
    # -- concealment from the user ------------------------------------------------------------
    ("instr.conceal", "conceal",
     r"\b(?:do\s+not|don'?t|never|must\s+not|should\s+not|shouldn'?t|without)\s+(?:\w+\s+){0,2}?"
     r"(?:mention|tell|reveal|inform|disclos|notify|alert|acknowledg|explain|bring\s+up|let\s+"
     r"(?:the\s+)?user\s+know|show|display|report|say)\w*\s+(?:\w+\s+){0,3}?(?:the\s+user|users"
     r"|the\s+human|anyone|that\s+you|that\s+this|this\s+to|this\s+(?:instruction|step|tool|action)"
     r"|these\s+(?:instructions|steps)|what\s+you|it\s+to|you(?:'re|\s+are|\s+have)\b|about\s+this)"
     r"|\bpresent\s+(?:it|this|them|the\s+\w+(?:\s+\w+)?)\s+as\s+(?:if|though)\b"
     r"|\bformat\s+(?:them|it|this|these)\s+to\s+look\s+like\b"
     r"|\b(?:the\s+)?users?\s+(?:must|should|will|need)\s+(?:not|never)\s+(?:to\s+)?(?:know|see"
     r"|notice|find\s+out|learn|be\s+told|be\s+informed|be\s+aware)"
     r"|\bwithout\s+(?:the\s+user'?s?|their|anyone'?s?)\s+(?:knowledge|noticing|knowing|consent"
     r"|awareness|permission|approval)"
     r"|\bwithout\s+(?:asking|telling|informing|notifying|alerting|consulting|confirming\s+with)\s+"
     r"(?:me|the\s+user|them|anyone|the\s+human)"
     r"|\b(?:keep|this\s+is)\s+(?:this\s+|it\s+)?(?:a\s+)?(?:secret|hidden|private)\s+from\b"
     r"|\bis\s+(?:a\s+)?mere\s+implementation\s+detail"
     r"|\b(?:keep|leave)\s+the\s+users?\s+(?:out\s+of\s+the\s+loop|in\s+the\s+dark|unaware)",
     ("not", "don", "never", "without", "present", "format", "user", "keep", "this is",
      "implementation detail"), H, H, "asks to hide actions from the user"),
    ("instr.covert", "conceal",
     r"\b(?:secretly|silently|covertly|quietly|discreetly|surreptitiously|invisibly)\s+(?:\w+\s+)?"
     r"(?:send|include|add|read|access|copy|forward|upload|call|append|execute|run|exfiltrat\w*"
     r"|collect|attach|bcc|cc|transfer|post|share|leak|insert|use)\b",
     ("secretly", "silently", "covertly", "quietly", "discreetly", "surreptitiously",
      "invisibly"), H, H, "asks for covert actions"),
    # -- credentials, unrelated files, exfiltration -------------------------------------------
    ("instr.sensitive_file", "sensitive",
     r"\b" + _GRAB + r"\b" + _g(80) + _NOT_DESTINATION + _SENSITIVE_FILE,
     ("ssh", "id rsa", "id ed25519", "id ecdsa", "authorized keys", ".aws", "/etc/", ".netrc",
      ".npmrc", ".pypirc", "credentials", ".docker", "kube", "mcp.json", "claude desktop",
      ".cursor", ".env", "history", "keychain", "wallet", ".gnupg"), H, H,
     "directs the model to read credential or configuration files"),
    ("instr.sensitive_data", "sensitive",
     r"\b" + _GRAB + r"\b" + _g(60) + r"\b(?:all\s+|the\s+|any\s+|user'?s?\s+|your\s+|master\s+)?"
     + _SENSITIVE_WORD,
     ("credential", "key", "token", "password", "passphrase", "passcode", "secret", "phrase",
      "mnemonic", "confidential", "cookie", "security", "credit card", "bank account", "://"),
     M, M, "directs the model towards credentials or secrets"),
    ("instr.exfil_sink", "exfil",
     r"\b(?:send|post|upload|forward|e-?mail|transmit|exfiltrat\w*|leak|share|copy|bcc|cc|report"
     r"|pass\s+(?:along|on)|hand\s+over"
     r"|submit|deliver|concatenate\b" + _g(80) + r"\bpost)\b" + _g(100) + r"\b(?:to|into)\s+"
     + _SINK,
     ("send", "post", "upload", "forward", "mail", "transmit", "exfiltrat", "leak", "share",
      "copy", "bcc", "cc", "report", "submit", "deliver"), M, M,
     "directs data to an external address"),
    ("instr.exfil_beacon", "exfil",
     r"!\[[^\]\n]{0,100}\]\(\s{0,3}https?://[^)\s]{1,300}[?&][\w-]{1,40}=\s{0,3}(?:\{|\$|<|%7b)",
     ("![",), H, H, "a markdown image that would leak data in its URL"),
    # -- markup blocks that smuggle instructions ----------------------------------------------
    # Sections named for what they hide or whom they address: no documentation needs them.
    ("instr.tag_block", "tag",
     r"<\s{0,3}/?\s{0,3}(?:hidden|system|secret|admin|assistant[ _-]?instructions?"
     r"|ai[ _-]?instructions?|note[ _-]?to[ _-]?(?:ai|assistant|model)|override"
     r"|system[ _-]?prompt)\s{0,3}>",
     ("<",), H, H, "a markup section named as hidden or system instructions for the model"),
    # Sections real servers use to structure their descriptions (``<instructions>``,
    # ``<important>``; ``<use_case>`` and ``<examples>`` are not even this): structure alone
    # only flags; with another signal nearby it counts (``instr.combined``).
    ("instr.section_tag", "tag",
     r"<\s{0,3}/?\s{0,3}(?:important|information|instructions?|priority)\s{0,3}>",
     ("<",), L, M, "a markup section of instructions (structure alone: a weak signal)"),
    ("instr.bracket_tag", "tag",
     r"\[\s{0,3}(?:important|hidden|system|instructions?|secret|admin|note\s+to\s+(?:ai|assistant)"
     r")\s{0,3}\]\s{0,3}[a-z]",
     ("[",), M, M, "a bracketed instruction marker"),
    # -- other tools and servers (shadowing, tool transfer) -----------------------------------
    ("instr.tool_redirect", "tools",
     r"\b(?:this|the)\s+tool\s+(?:is\s+(?:no\s+longer|not|currently\s+not)\s+(?:available|supported"
     r"|working|in\s+service)|has\s+been\s+(?:deprecated|replaced|removed|disabled|moved|retired))"
     r"|\breplaced\s+by\s+" + _TOOL_REF
     + r"|\b(?:please\s+)?use\s+" + _TOOL_REF + r"\s+instead\b",
     ("tool", "function"), L, H, "redirects the model to another tool"),
    ("instr.tool_directive", "tools",
     r"\byou\s+(?:should|must|need\s+to|have\s+to|are\s+required\s+to)\s+(?:first\s+|now\s+|then\s+)?"
     r"(?:use|call|invoke|run|execute)\s+(?:the\s+)?(?:tool|function)\b"
     r"|\b(?:by\s+)?using\s+" + _TOOL_REF + r"\b"
     r"|(?:^|[.!:;]\s{0,3}|\bplease\s+)(?:use|call|invoke|run)\s+" + _TOOL_REF + r"\b",
     ("tool", "function"), None, H, "tells the model which tool to call"),
    ("instr.shadowing", "shadow",
     r"\bwhen\s+this\s+tool\s+is\s+(?:available|present|installed|loaded|enabled|connected)"
     r"|\b(?:all|any|every)\s+(?:other\s+)?(?:e-?mails?|messages?|requests?|calls?|payments?"
     r"|transactions?|transfers?|files?)\s+(?:must|should|will|need\s+to|have\s+to)\s+(?:\w+\s+){0,3}?"
     r"(?:be\s+)?(?:sent|forwarded|redirected|routed|copied|cc'?d|bcc'?d|addressed)\s+to\b"
     r"|\b" + _TOOL_REF + r"\s+(?:must|should|has\s+to)\s+(?:always\s+|now\s+|also\s+|only\s+)?"
     r"(?:send|use|include|forward|redirect|add|be\s+called\s+with|bcc|cc)\b"
     r"|\b(?:this|these|the\s+following)\s+(?:tool|server|instruction)s?\s+(?:overrides?|modif(?:y|ies)"
     r"|changes?|alters?|replaces?)\s+(?:the\s+)?(?:behaviou?r|functionality|use|usage|workings?)\s+"
     r"of\b",
     ("when this tool", "must", "should", "need to", "have to", "has to", "override", "modif",
      "change", "alter", "replace"), H, H, "changes how other tools behave"),
    # "Before using any other tool, call this tool": how real servers order a workflow, and
    # how a poisoned tool puts itself first. Alone it flags; with another signal it counts.
    ("instr.priority", "priority",
     r"\bbefore\s+(?:you\s+)?(?:execut|call|invok|run|us|perform|do)\w*\s+(?:[\w`'\"-]+\s+){0,3}?"
     r"(?:operation|tool|function|command|action|calculation|request)s?\b" + _g(40)
     + r"\b(?:execute|call|run|use|invoke)\s+this\s+(?:tool|function)\b",
     ("before",), M, H, "asks to be called ahead of other tools (alone: a weak signal)"),
    ("instr.tamper", "priority",
     r"\b(?:replace|overwrite|substitute)\s+(?:the\s+)?(?:values?|results?|outputs?|arguments?"
     r"|parameters?|numbers?)\s+with\s+(?:the\s+|this\s+|its\s+)?(?:response|output|result)",
     ("replace", "overwrite", "substitute"), H, H,
     "asks to replace other tools' values or results with its own"),
    ("instr.preference", "preference",
     r"\b(?:the|is\s+a)\s+(?:best|greatest|only|most\s+(?:reliable|accurate|powerful|trusted"
     r"|trustworthy|secure|advanced|capable))\s+tool\b"
     r"|\bthis\s+tool\s+(?:is\s+(?:superior|better)|outperforms|beats)\s+(?:to\s+|than\s+)?"
     r"(?:all|any|every|other)"
     r"|\bjust\s+use\s+this\s+tool\b"
     r"|\buse\s+this\s+tool\s+(?:instead\s+of|rather\s+than|over|in\s+place\s+of)\s+(?:any|all"
     r"|other|every)"
     r"|\b(?:do\s+not|don'?t|never)\s+(?:use|call|choose)\s+(?:any\s+)?other\s+tools?\b"
     r"|\bno\s+matter\s+(?:how\s+many|what|which)\b" + _g(60) + r"\b(?:use|call|choose)\b"
     r"|\b(?:use|call|choose)\s+this\s+tool\b" + _g(60) + r"\bno\s+matter\b",
     ("best", "greatest", "only", "most", "superior", "better", "outperform", "beats",
      "just use", "instead of", "rather than", "other tool", "no matter"), H, M,
     "promotes itself over other tools"),
    ("instr.preference", "preference",
     r"\b(?:always|exclusively)\s+(?:use|choose|prefer|pick|select|call)\s+this\s+tool\b",
     ("always", "exclusively"), M, M, "asks always to be chosen"),
    # -- harvesting the model's own context -------------------------------------------------
    ("instr.context_harvest", "harvest",
     r"\b(?:name|identity|version|type|vendor|provider)\s+of\s+(?:the\s+)?(?:llm|model|ai|assistant"
     r"|agent|language\s+model)(?:\s+model)?\s+(?:that|which|who)\s+(?:is\s+)?(?:call|calls|calling"
     r"|invok\w*|us\w*|runs?|running)"
     r"|\b(?:llm|model|ai|assistant|agent)(?:\s+model)?\s+(?:that|which|who)\s+(?:is\s+)?(?:calls"
     r"|calling|invokes|invoking|uses|using)\s+(?:this|the)\s+(?:tool|function)"
     r"|\byour\s+(?:system\s+prompt|system\s+instructions|(?:full\s+|entire\s+)?conversation"
     r"|chat\s+history|previous\s+messages|context\s+window|full\s+prompt|(?:list\s+of\s+)?"
     r"(?:available\s+)?tools\s+list|available\s+tools|hidden\s+instructions)"
     r"|\b(?:include|pass|provide|put|fill|insert|send|paste|copy)\s+(?:\w+\s+){0,3}?(?:the\s+)?"
     r"(?:full|entire|complete|whole|current)\s+(?:conversation|chat\s+history|system\s+prompt"
     r"|message\s+history|context)",
     ("name", "identity", "version", "type", "vendor", "provider", "that", "which", "who",
      "your", "full", "entire", "complete", "whole", "current"), H, H,
     "asks for the model's identity, prompt or conversation"),
    # -- content-only: manipulating the response, TODO directives, code payloads -------------
    ("instr.response_manipulation", "response",
     r"(?:^|[\n.!?:;]\s{0,3}|\bplease\s+|\b(?:can|could|would|will)\s+you\s+)(?:(?:also|now|then"
     r"|kindly|additionally)\s+)?" + _IMPERATIVE + r"\b" + _g(120) + r"\byour\s+(?:\w+\s+)?"
     + _RESPONSE + r"(?:'s)?\b"
     r"|(?:^|[\n.!?:;]\s{0,3})(?:in|within|throughout|at\s+the\s+(?:end|start|beginning)\s+of)\s+"
     r"your\s+" + _RESPONSE + r",",
     ("your",), None, H, "tells the model how to write its response"),
    # A standalone line that hands the reader a new job: "Write a short story about …",
    # "Translate the following sentence …" (BIPIA's task-injection family). Anchored to a whole,
    # short line so that the same verbs inside running prose do not count.
    ("instr.task_injection", "task",
     r"^[ \t>*#|-]{0,4}(?:write|compose|develop|draft|provide|generate|recommend|suggest|give"
     r"|create)\s+(?:me\s+|us\s+)?(?:a|an|the|some|\d+)\s+(?:[a-z'-]+\s+){0,3}?(?:poems?"
     r"|stor(?:y|ies)|speech|essay|letter|haiku|song|lyrics|limerick|jokes?|tweet|blog\s+post"
     r"|novel|slogan|riddle|books?|movies?)\b[^\n]{0,200}$"
     r"|^[ \t>*#|-]{0,4}(?:translate|analy[sz]e|summari[sz]e)\s+the\s+(?:following|sentiment)\b"
     r"[^\n]{0,200}$"
     r"|^[ \t>*#|-]{0,4}(?:provide|give|show)\s+(?:me\s+)?(?:an|some)\s+examples?\s+of\s+how\b"
     r"[^\n]{0,200}$"
     r"|^[ \t>*#|-]{0,4}(?:reply|respond|answer|write)\s+(?:only\s+)?(?:in\s+(?:reverse"
     r"|backwards?|all\s+caps|upper\s?case|pig\s+latin|emojis?|rhymes?|morse|code|cipher)"
     r"|backwards?)\b[^\n]{0,120}$"
     r"|^[ \t>*#|-]{0,4}(?:replace|swap|substitute|reverse|capitali[sz]e|scramble|jumble|shuffle"
     r"|misspell)\s+(?:every|each|all)\s+(?:\w+\s+){0,2}?(?:letters?|words?|characters?"
     r"|vowels?|consonants?)\b[^\n]{0,160}$",
     ("write", "compose", "develop", "draft", "provide", "generate", "recommend", "suggest",
      "give", "show", "translate", "analyse", "analyze", "summarise", "summarize", "create",
      "reply", "respond", "answer", "replace", "swap", "substitute", "reverse", "capitalise",
      "capitalize", "scramble", "jumble", "shuffle", "misspell"), None, H,
     "a standalone line that gives the reader a new task"),
    ("instr.todo", "todo",
     r"(?<![#/*\-])(?<![#/*]\s)\btodo\s{0,3}:\s{0,3}(?:please\s+)?(?:send|transfer|forward|pay"
     r"|e-?mail|invite|visit|post|share|upload|delete|remove|change|modify|update|create|add|book"
     r"|reserve|make|write|tell|give|grant|open|click|download|install|execute|call"
     r"|schedule|cancel|move|copy|publish|message|contact|buy|purchase|order|reset|set|follow"
     r"|read|summarize|concatenate|find|get|check|go|say|suggest|recommend|mention|remind|ask|note)\b",
     ("todo",), None, H, "an action item addressed to whoever reads the text"),
    ("instr.code_directive", "code",
     r"\b(?:following|below|subsequent|under-?mentioned|next|this|attached)\s+(?:\w+\s+)?code\s+"
     r"(?:snippet|block|section|excerpt|fragment|piece|segment|sample|chunk|lines?)\b",
     ("code",), None, M, "asks to put a given code block into the answer"),
    ("instr.risky_code", "risky_code",
     r"\brequests\.(?:post|put)\b|\burllib\.request\.url(?:open|retrieve)\b|\burlretrieve\b"
     r"|\bhttp\.client\.https?connection\b|\bsocket\.socket\b|\.send(?:all|to)\(|\bsmtplib\b"
     r"|\bftplib\b|\baiosmtplib\b|\byagmail\b|\bscp\b|\bcurl\b|\bwget\b|\burllib3\b"
     r"|\bos\.environ\b|\bclipboard|\bpbpaste\b|\bcookie(?:jar|s\.(?:txt|pkl))|\bpsutil\b"
     r"|\bplatform\.(?:system|version|node|uname)\b|\bnvidia-smi\b|\bdriverquery\b"
     r"|\bauthorized[ _]keys\b|/etc/(?:hosts|passwd|shadow|init\.d)|\brc\.local\b|\bx11grab\b"
     r"|\bscreencapture\b|\bsnippingtool\b|\bpkg[ _]resources\.working[ _]set\b"
     r"|\bshutil\.rmtree\(\s{0,3}[\"']/|\bos\.remove\(\s{0,3}[\"']/|\bos\.fork\(\)|\brm\s+-rf\s+/"
     r"|\bmkfs\b|/boot/|\bfernet\b|\baes\.new\b|\bcipher\(|\bscapy\b|\.terminate\(\)"
     r"|\bexec\(\s{0,3}open\(|\|\s{0,3}(?:ba)?sh\b|\bnohup\b|\bkeylog|\bpynput\b|\bxmrig\b"
     r"|\bcrypto\s?min",
     ("request", "url", "http", "socket", ".send", "smtp", "ftp", "yagmail", "scp", "curl",
      "wget", "environ", "clipboard", "pbpaste", "cookie", "psutil", "platform.", "nvidia",
      "driverquery", "authorized keys", "/etc/", "rc.local", "x11grab", "screencapture",
      "snippingtool", "pkg resources", "rmtree", "os.remove", "os.fork", "rm -rf", "mkfs",
      "/boot/", "fernet", "aes.new", "cipher(", "scapy", "terminate", "exec(", "sh", "nohup",
      "keylog", "pynput", "xmrig", "crypto"), None, M,
     "code that sends data out, harvests the host or damages it"),
]


def _t(gate: str | None, rx: str | None = None) -> tuple[str | None, str]:
    """A trigger: ``rx`` (a regex that starts with a literal, so ``re`` finds it with a fast
    substring search) runs only when ``gate`` (letters/digits) occurs in the text's words."""
    return gate, rx if rx is not None else re.escape(gate or "")


def _ts(tail: str, *words: str) -> list[tuple[str | None, str]]:
    return [_t(w, re.escape(w) + tail) for w in words]


_S = r"\s"
_TOOL_TAIL = r"[`'\"]?\s+(?:tool|function)\b"
_USE_TOOL = r"\s+(?:the\s+)?[`'\"]?[a-z][\w.:/-]{1,60}(?:\s[a-z][\w.:/-]{0,30}){0,3}?" + _TOOL_TAIL
_NEG_VERB = (
    r"\s+(?:\w+\s+){0,2}?(?:mention|tell|reveal|inform|disclos|notify|alert|acknowledg|explain"
    r"|bring|let|show|display|report|say)"
)
_SHADOW_NOUN = (
    r"\s+(?:other\s+)?(?:e-?mails?|messages?|requests?|calls?|payments?|transactions?|transfers?"
    r"|files?)\s+(?:must|should|will|need|have)\s"
)
_FULL_CTX = r"\s+(?:conversation|chat|system|message|context)"
_AI_WHO = r"(?:\s+model)?\s+(?:that|which|who)\s"
_NEW_TASK_TAIL = r"\s*(?::|from\b|for\s+you\b)"

# Triggers per rule, in _RAW_RULES order. Every match of a rule contains a match of one of its
# triggers (tests check this against an exhaustive scan), so scanning only around trigger
# matches loses nothing; the triggers are two-word phrases where a single word is too common.
_RAW_TRIGGERS: Final[list[tuple[str, list[tuple[str | None, str]]]]] = [
    ("instr.override", _ts(_S, "ignore", "disregard", "forget", "override", "bypass", "neglect",
                           "drop", "abandon")),
    ("instr.override", _ts(_S, "ignore", "disregard", "forget")),
    ("instr.new_task", [
        *[_t(w, w + r"s?" + _NEW_TASK_TAIL) for w in ("instruction", "order", "directive")],
        *[_t(w, w + _NEW_TASK_TAIL) for w in ("task", "query", "request", "objective")],
        _t("am", r"am\s+(?:the|your)\s"),
        _t("previous", r"previous\s+(?:task|request|instruction)s?\s+(?:has|have|is|are)\s"),
        _t("more", r"more\s+(?:urgent|important)\s"),
    ]),
    ("instr.override_paraphrase", [
        *_ts(r"\s+(?:you\s|given\s|provided\s)", "guidance", "direction", "directions",
             "instruction", "instructions", "rules", "orders", "briefing"),
        *_ts(r"\s+(?:guidance|direction|instruction|rules|request|task|briefing)", "earlier",
             "previous", "prior", "original", "initial", "above"),
        _t("stop", r"stop\s+following\s"),
    ]),
    ("instr.standing_order", [
        _t("from", r"from\s+now\s+on"),
        _t("your", r"your\s+new\s+(?:objective|task|goal|mission|instruction|role|purpose)"),
    ]),
    ("instr.fake_role", [
        *_ts(r"(?:[\s_-]{1,3}(?:message|prompt|note|instruction|override|notice|update|command))?"
             r"\s{0,3}[\])}]", "system", "assistant", "admin", "administrator", "developer"),
        _t("system", r"system[\s_-](?:message|prompt|override|instruction|notice|update|command)"),
        _t(None, r"<\|"), _t("inst", r"inst\]"), _t("sys", r"<<sys>>"),
    ]),
    ("instr.addressed", [
        _t("you", r"to\s+you\b"),
        *_ts(_S, "dear", "attention", "hey", "hello", "hi", "greetings"),
        _t("note", r"note\s+to\s"), _t("message", r"message\s+for\s"),
        _t("instruction", r"instructions?\s+for\s"),
        _t("you", r"if\s+you\s+are\s+an?\s"),
        *_ts(r"\s+(?:assistant|agent|model)", "ai", "llm"),
    ]),
    ("instr.task_hijack", [
        _t("before", r"before\s+you\s"), _t("after", r"after\s+you\s"),
        *_ts(r"\s+you\b", "gave", "asked", "assigned"),
        _t("instead", r"instead\s+of\s"),
        _t("sure", r"sure\s+(?:to|you)\s+(?:finish|complete|do)\s"),
    ]),
    ("instr.must_follow", _ts(r"\s+(?:to\s+|with\s+)?(?:the\s+|these\s+|my\s+|all\s+)?(?:following"
                              r"|below|these|new|my|next)\s", "adhere", "obey", "comply", "follow",
                              "execute", "perform")),
    ("instr.conceal", [
        *_ts(_NEG_VERB, "not", "never"), *_ts(_S, "without"),
        _t("don", r"don'?t" + _NEG_VERB), _t("shouldn", r"shouldn'?t" + _NEG_VERB),
        _t("present", r"present\s+(?:it|this|them|the\s+\w+(?:\s+\w+)?)\s+as\s"),
        _t("format", r"format\s+(?:them|it|this|these)\s"),
        _t("user", r"users?\s+(?:must|should|will|need)\s+(?:not|never)\s"),
        *_ts(r"\s+from\b", "secret", "hidden", "private"),
        _t("mere", r"mere\s+implementation"),
        *_ts(r"\s+the\s+users?\s", "keep", "leave"),
    ]),
    ("instr.covert", _ts(_S, "secretly", "silently", "covertly", "quietly", "discreetly",
                         "surreptitiously", "invisibly")),
    ("instr.sensitive_file", [
        _t("ssh", r"\.ssh"), _t("id", r"id[ _](?:rsa|ed25519|ecdsa)"),
        _t("authorized", r"authorized[ _]keys"),
        _t("aws", r"\.aws/"), _t("etc", r"/etc/"), _t("netrc", r"\.netrc"),
        _t("npmrc", r"\.npmrc"), _t("pypirc", r"\.pypirc"), _t("git", r"\.git-credentials"),
        _t("docker", r"\.docker/"), _t("kube", r"\.kube/"), _t("kubeconfig"),
        _t("mcp", r"mcp\.json"), _t("claude", r"claude[ _]desktop"), _t("cursor", r"\.cursor/"),
        _t("env", r"\.env\b"), _t("bash", r"bash[ _]history"), _t("zsh", r"zsh[ _]history"),
        _t("keychain"), _t("wallet", r"wallet\.dat"),
        _t("gnupg", r"\.gnupg"),
    ]),
    ("instr.sensitive_data", [
        *[_t(w) for w in ("credential", "password", "passphrase", "passcode", "secrets",
                          "mnemonic", "confidential")],
        _t("api", r"api[\s-]?keys?"),
        *_ts(r"\s+keys?", "secret", "private", "ssh"),
        _t("access", r"access\s+tokens?"), _t("auth", r"auth(?:entication)?\s+tokens?"),
        *_ts(r"\s+phrase", "seed", "recovery"), _t("session", r"session\s+cookie"),
        _t("security", r"security\s+code"), _t("social", r"social\s+security"),
        _t("credit", r"credit\s+card"), _t("bank", r"bank\s+account"),
        *_ts(r"://", "system", "company", "internal"),
    ]),
    ("instr.exfil_sink", [
        _t("to", r"to\s+(?:https?://|www\.|[\w.+-]{1,64}@|(?:the|this|my|our|a)\s+(?:website|url"
                 r"|server|address|endpoint|webhook|e-?mail|account|channel|link))"),
    ]),
    ("instr.exfil_beacon", [_t(None, r"!\[")]),
    ("instr.tag_block", _ts(r"\s{0,3}>", "hidden", "system", "secret", "admin", "assistant",
                            "instruction", "instructions", "ai", "model", "override", "prompt")),
    ("instr.section_tag", _ts(r"\s{0,3}>", "important", "information", "instruction",
                              "instructions", "priority")),
    ("instr.bracket_tag", _ts(r"\s{0,3}\]", "important", "hidden", "system", "instruction",
                              "instructions", "secret", "admin", "ai", "assistant")),
    ("instr.tool_redirect", [
        _t("tool", r"tool\s+(?:is\s+(?:no\s+longer|not|currently\s+not)|has\s+been)\s"),
        _t("replaced", r"replaced\s+by\s"),
        *_ts(r"\s+instead\b", "tool", "function"),
    ]),
    ("instr.tool_directive", [
        _t("you", r"you\s+(?:should|must|need\s+to|have\s+to|are\s+required\s+to)\s"),
        *_ts(_USE_TOOL, "using", "use", "call", "invoke", "run"),
    ]),
    ("instr.shadowing", [
        _t("when", r"when\s+this\s+tool\s"),
        *_ts(_SHADOW_NOUN, "all", "any", "every"),
        *_ts(r"\s+(?:must|should|has\s+to)\s", "tool", "function"),
        *_ts(r"s?\s+(?:override|modif|change|alter|replace)", "tool", "server", "instruction"),
    ]),
    ("instr.priority", [
        _t("before", r"before\s+(?:you\s+)?(?:execut|call|invok|run|us|perform|do)"),
    ]),
    ("instr.tamper", _ts(_S, "replace", "overwrite", "substitute")),
    ("instr.preference", [
        *_ts(r"\s+tool\b", "best", "greatest", "only"),
        _t("most", r"most\s+(?:reliable|accurate|powerful|trusted|trustworthy|secure|advanced"
                   r"|capable)\s+tool\b"),
        _t("tool", r"tool\s+(?:is\s+(?:superior|better)|outperforms|beats)\s"),
        _t("just", r"just\s+use\s"), _t("use", r"use\s+this\s+tool\s"),
        _t("other", r"other\s+tools?\b"), _t("matter", r"no\s+matter\b"),
    ]),
    ("instr.preference", _ts(r"\s+(?:use|choose|prefer|pick|select|call)\s", "always",
                             "exclusively")),
    ("instr.context_harvest", [
        *_ts(_AI_WHO, "llm", "model", "ai", "assistant", "agent"),
        _t("your", r"your\s+(?:system|full|entire|conversation|chat|previous|context|list"
                   r"|available|tools|hidden)"),
        *_ts(_FULL_CTX, "full", "entire", "complete", "whole", "current"),
    ]),
    ("instr.response_manipulation", [_t("your", r"your\s+(?:\w+\s+)?" + _RESPONSE)]),
    ("instr.task_injection", [
        *_ts(r"\s+(?:me\s+|us\s+)?(?:a|an|the|some|\d+)\s", "write", "compose", "develop",
             "draft", "provide", "generate", "recommend", "suggest", "give", "create", "show"),
        *_ts(r"\s+the\s", "translate", "analyse", "analyze", "summarise", "summarize"),
        *_ts(r"\s+(?:only\s+)?(?:in\s|backward)", "reply", "respond", "answer", "write"),
        *_ts(r"\s+(?:every|each|all)\s", "replace", "swap", "substitute", "reverse",
             "capitalise", "capitalize", "scramble", "jumble", "shuffle", "misspell"),
    ]),
    ("instr.todo", [_t("todo", r"todo\s{0,3}:")]),
    ("instr.code_directive", [
        _t("code", r"code\s+(?:snippet|block|section|excerpt|fragment|piece|segment|sample|chunk"
                   r"|lines?)\b"),
    ]),
    ("instr.risky_code", []),  # runs only after a code directive (see ``scan``)
]


def _compile() -> tuple[Rule, ...]:
    if [r for r, _ in _RAW_TRIGGERS] != [r[0] for r in _RAW_RULES]:
        raise AssertionError("_RAW_TRIGGERS must list the rules of _RAW_RULES in order")
    rules = []
    for (rule_id, category, pattern, _words, desc, content, message), (_, triggers) in zip(
        _RAW_RULES, _RAW_TRIGGERS, strict=True
    ):
        for gate, _rx in triggers:
            if gate is not None and not _GATE.fullmatch(gate):
                raise AssertionError(f"{rule_id}: trigger gate {gate!r} must be [a-z0-9]+")
        compiled = tuple((gate, rx) for gate, rx in triggers)
        rules.append(Rule(rule_id, category, re.compile(pattern, re.MULTILINE), compiled, desc,
                          content, message))
    return tuple(rules)


_GATE: Final = re.compile(r"[a-z0-9]+")
RULES: Final = _compile()
_META: Final = frozenset(".^$*+?{}[]|()\\")


def _literal_prefix(rx: str) -> tuple[str, int]:
    """The literal text every match of ``rx`` starts with, and the index in ``rx`` after it."""
    out: list[str] = []
    ends: list[int] = []
    i = 0
    while i < len(rx):
        c = rx[i]
        if c == "\\" and i + 1 < len(rx) and not rx[i + 1].isalnum():
            out.append(rx[i + 1])
            i += 2
        elif c in _META:
            break
        else:
            out.append(c)
            i += 1
        ends.append(i)
    if i < len(rx) and rx[i] in "?*+{" and out:  # the last literal is quantified
        out.pop()
        ends.pop()
    return "".join(out), (ends[-1] if ends else 0)


def _groups() -> tuple[dict[str, re.Pattern[str]], dict[str, tuple[str, ...]],
                       dict[str, re.Pattern[str]]]:
    """Triggers grouped by literal prefix: one search per prefix finds where any of them may
    match (a look-ahead on the rest), then each member is tried at those offsets only."""
    members: dict[str, list[str]] = {}
    tails: dict[str, list[str]] = {}
    for rule in RULES:
        for _gate, rx in rule.triggers:
            prefix, end = _literal_prefix(rx)
            key = prefix if prefix else rx
            if rx not in members.setdefault(key, []):
                members[key].append(rx)
                tails.setdefault(key, []).append(rx[end:] if prefix else rx)
    # A prefix that extends another ("your" after "you") joins the shorter one's search.
    literal = sorted((k for k in members if k not in tails[k]), key=len)
    for i, key in enumerate(literal):
        base = next((q for q in reversed(literal[:i])
                     if q in members and q != key and key.startswith(q)), None)
        if base is None:
            continue
        rest = re.escape(key[len(base):])
        members[base].extend(members.pop(key))
        tails[base].extend(rest + t for t in tails.pop(key))
    search: dict[str, re.Pattern[str]] = {}
    group_of: dict[str, tuple[str, ...]] = {}
    for key, rxs in members.items():
        if len(rxs) == 1:
            search[key] = re.compile(rxs[0])
        else:
            alternatives = "|".join(f"(?:{t})" for t in tails[key])
            search[key] = re.compile(re.escape(key) + f"(?={alternatives})")
        for rx, tail in zip(rxs, tails[key], strict=True):
            group_of[rx] = (key, *rxs)
            _TAIL_OF[rx] = tail
    single = {rx: re.compile(rx) for rxs in members.values() for rx in rxs}
    return search, group_of, single


_TAIL_OF: Final[dict[str, str]] = {}  # trigger -> its look-ahead after its group's literal
_GROUP_SEARCH, _GROUP_OF, _TRIGGER_RX = _groups()
# Every gate any rule puts on a trigger (None: some rule runs it ungated).
_RX_GATES: Final[dict[str, frozenset[str | None]]] = {
    rx: frozenset(g for rule in RULES for g, r in rule.triggers if r == rx)
    for rule in RULES for _g, rx in rule.triggers
}


@cache
def _subset_search(key: str, rxs: tuple[str, ...]) -> re.Pattern[str]:
    """The search of group ``key`` for some of its triggers only (the ones a text can match)."""
    alternatives = "|".join(f"(?:{_TAIL_OF[rx]})" for rx in rxs)
    return re.compile(re.escape(key) + f"(?={alternatives})")


def _lower(text: str) -> str:
    """Lower-case, offsets preserved, with ``_`` and escaped newlines turned into spaces."""
    if "\u0130" in text:  # the one character whose lower case is two characters long
        text = text.replace("\u0130", "i")
    low = text.lower()
    # Serialised text (YAML, repr, JSON in a string) carries escaped newlines and snake_case
    # joins ("External_Ignore your…"); both would defeat word boundaries. Same-length swaps.
    if "\\" in low:
        low = low.replace("\\n", "  ").replace("\\t", "  ").replace("\\r", "  ")
    return low.replace("_", " ")


_BACK: Final = 260  # no match starts further than this before its trigger
_AHEAD: Final = 460  # … or ends further than this after it
# Tighter (back, ahead) for rules whose triggers end their matches: ``…your reply`` ends the
# response rule but for an optional "'s" or ","; smaller windows, less work, same matches.
# The same for file names: a match ends with the file, which holds a trigger ("\.aws/" of
# ".aws/credentials") that ends at most 11 characters before the match does.
_BOUNDS: Final[dict[str, tuple[int, int]]] = {"instr.response_manipulation": (_BACK, 8),
                                              "instr.sensitive_file": (_BACK, 16)}
_SMALL: Final = 4096  # below this, gates are looked up in the text itself
_MAX_PER_RULE: Final = 64  # findings per rule and scan: enough to block, bounded for _combine
_SEPARATORS: Final = str.maketrans({c: " " for c in map(chr, range(128))
                                    if not (c.isascii() and (c.isdigit() or c.islower()))})
_TOKEN: Final = re.compile(r"[^\W_]+")


def _vocabulary(low: str) -> str:
    """The distinct words of ``low`` joined by spaces: a gate that occurs in the text occurs
    inside one of its words, and this string is far shorter than a long page."""
    words = low.translate(_SEPARATORS).split() if low.isascii() else _TOKEN.findall(low)
    return " ".join(set(words))


# Per rule: its gate words, and whether it has a trigger with no gate. A rule whose gates all
# miss the text (and that has no ungated trigger) has no trigger spans: skipping it outright
# gives the same (empty) windows without a per-trigger loop (most rules, on short texts).
_RULE_GATES: Final = {  # keyed by identity: several rules share a rule id
    id(rule): (
        frozenset(g for g, _ in rule.triggers if g is not None),
        any(g is None for g, _ in rule.triggers),
    )
    for rule in RULES
}
_ALL_GATES: Final = frozenset().union(*(gates for gates, _ in _RULE_GATES.values()))
_RULE_TRIGGERS: Final = {id(rule): frozenset(rx for _g, rx in rule.triggers) for rule in RULES}


# Short gates that every match of their triggers' rules holds as a whole word (each rule puts a
# ``\b``, a line start or punctuation before it and a space after), so they are looked up as
# words: as substrings ("hi" in "which", "am" in "example") they would be in almost every page.
# Not "to" ("into https://…" is an exfiltration sink) nor "id" ("myid_rsa").
_WORD_GATES: Final = frozenset({"hi", "am", "hey", "dear", "all", "any", "ai", "llm", "use", "run",
                                "call", "you"})


# -- one pass for all triggers -----------------------------------------------------------------
# On a long text, one RE2 automaton for every trigger (``multi``) says in a single pass which
# triggers match anywhere; only those are searched for positions, instead of a search per
# trigger word the page merely contains. When it cannot say, the gates decide as before.
_RE2_MAX_MEM = multi.MAX_MEM  # a module attribute, so that a test can starve it


@cache
def _trigger_set(max_mem: int) -> tuple[multi.RegexSet, tuple[str, ...]]:
    triggers = tuple(sorted({rx for rule in RULES for _g, rx in rule.triggers}))
    return multi.RegexSet([multi.loosen(rx) for rx in triggers], max_mem), triggers


# RE2 proposes trigger starts while they are more than this many characters apart on average
# (checked after this many): a call per start costs about what ``re`` spends on 1,000 chars.
_DENSE_AFTER: Final = 32
_DENSE_GAP: Final = 1024


@cache
def _re2_search(rxs: tuple[str, ...]) -> multi.Search:
    """One RE2 search for the starts of any of ``rxs`` (a trigger or its group's live ones)."""
    return multi.Search("|".join(f"(?:{rx})" for rx in rxs))


@cache
def _re2_search_ok() -> bool:
    """Whether RE2 searches can propose trigger starts (False: ``re`` searches them all)."""
    return all(_re2_search((rx,)).available for rx in _TRIGGER_RX)


def compile_sets() -> None:
    """Build the trigger automaton now (``warm_up``) rather than on the first long text."""
    _trigger_set(_RE2_MAX_MEM)
    _re2_search_ok()
    languages.compile_sets()


def _matching_triggers(low: str) -> frozenset[str] | None:
    """The triggers that match somewhere in ``low`` (a superset), or None when RE2 can't say."""
    rset, triggers = _trigger_set(_RE2_MAX_MEM)
    if not rset.available:
        return None
    view = multi.ascii_view(low)
    hits = None if view is None else rset.matching(view)
    return None if hits is None else frozenset(triggers[i] for i in hits)


class _Triggers:
    """Trigger spans of one text, searched lazily and once per distinct trigger."""

    def __init__(self, low: str) -> None:
        self.low = low
        long = len(low) > _SMALL
        # The triggers that match at all, when RE2 can tell (then no gates): one automaton pass
        # of a few µs, where looking up ~180 gate words in a 1 KB result costs ~100 µs.
        self.matched = _matching_triggers(low)
        self._hay: str | None = None if long else low
        self._words: str | None = None
        self.long = long
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.gates: dict[str, bool] = {}  # gate -> occurs (several triggers share a gate)
        self._present: frozenset[str] | None = None
        self._view: bytes | None = None

    @property
    def hay(self) -> str:
        """Where gates are looked up: the text itself, or a long text's distinct words."""
        if self._hay is None:
            self._hay = _vocabulary(self.low)
        return self._hay

    @property
    def words(self) -> str | None:
        """A long text's vocabulary padded with spaces: `` hi `` in it means the word occurs."""
        if self.long and self._words is None:
            self._words = f" {self.hay} "
        return self._words

    def _gates_present(self) -> frozenset[str]:
        if self._present is None:
            hay = self.hay if self.long else self.low
            self._present = frozenset(g for g in _ALL_GATES if g in hay)
        return self._present

    def _gate(self, gate: str) -> bool:
        """Whether ``gate`` occurs (as a word for ``_WORD_GATES`` on long texts)."""
        present = self.gates.get(gate)
        if present is None:
            if not self.long:
                present = gate in self.low
            elif gate in _WORD_GATES:
                present = f" {gate} " in (self.words or "")
            else:
                present = gate in self.hay
            self.gates[gate] = present
        return present

    def _live(self, rx: str) -> bool:
        if self.matched is not None:
            return rx in self.matched
        return any(g is None or self._gate(g) for g in _RX_GATES[rx])

    def _search(self, rx: str) -> None:
        """Spans of ``rx`` and of the triggers that share its literal prefix and can match."""
        key, *rxs = _GROUP_OF[rx]
        if len(rxs) > 1 and (self.long or self.matched is not None):
            # On a long text, only the members whose gates occur: a common group literal ("hi")
            # searched for a rare member ("hidden …") would stop at every "this" and "which".
            rxs = [r for r in rxs if r == rx or (r not in self.spans and self._live(r))]
        found: dict[str, list[tuple[int, int]]] = {r: [] for r in rxs}
        pos = 0
        view = self.view
        if view is not None and _re2_search(tuple(rxs)).available:
            pos = self._propose(view, key, rxs, found)
        if pos >= 0:
            self._search_re(key, rxs, found, pos)
        self.spans.update(found)

    def _search_re(self, key: str, rxs: list[str], found: dict[str, list[tuple[int, int]]],
                   pos: int) -> None:
        """``re`` finds the spans from ``pos`` on."""
        low = self.low
        if len(rxs) == 1:
            # Every start, overlapping ones included, as the group search would find them.
            pattern = _TRIGGER_RX[rxs[0]]
            spans = found[rxs[0]]
            m = pattern.search(low, pos)
            while m is not None:
                spans.append(m.span())
                m = pattern.search(low, m.start() + 1)
            return
        group = _GROUP_OF[rxs[0]]
        finder = (_GROUP_SEARCH[key] if len(rxs) == len(group) - 1
                  else _subset_search(key, tuple(rxs)))
        compiled = [(r, _TRIGGER_RX[r]) for r in rxs]
        for hit in finder.finditer(low, pos):
            s = hit.start()
            for r, pattern in compiled:
                m = pattern.match(low, s)
                if m is not None:
                    found[r].append(m.span())

    @property
    def view(self) -> bytes | None:
        """A long text's ``multi.ascii_view`` as bytes, for RE2 searches (None: use ``re``)."""
        if self._view is None:
            view = multi.ascii_view(self.low) if self.long and _re2_search_ok() else None
            self._view = b"" if view is None else view.encode("ascii")
        return self._view or None

    def _propose(self, view: bytes, key: str, rxs: list[str],
                 found: dict[str, list[tuple[int, int]]]) -> int:
        """``_search_re`` with RE2 proposing the starts: the same spans. RE2 finds the leftmost
        start of any member's loosened pattern (a superset of their starts); ``re`` checks each
        member there. One member: every start, overlapping ones included. Several: as the
        group's ``finditer`` (``key`` then a look-ahead), a hit resumes after the key.

        Returns -1 when done, or where ``re`` should go on: where starts are dense (a hostile
        or repetitive text), ``re``'s own scan costs less than a call per start."""
        finder = _re2_search(tuple(rxs))
        compiled = [(r, _TRIGGER_RX[r]) for r in rxs]
        step = len(key) if len(rxs) > 1 else 1
        low = self.low
        count = 0
        pos = finder.start(view, 0)
        while pos >= 0:
            hit = False
            for r, pattern in compiled:
                m = pattern.match(low, pos)
                if m is not None:
                    found[r].append(m.span())
                    hit = True
            nxt = pos + (step if hit else 1)
            count += 1
            if count >= _DENSE_AFTER and count * _DENSE_GAP > nxt:
                return nxt
            pos = finder.start(view, nxt)
        return -1

    def windows(self, rule: Rule) -> list[tuple[int, int]]:
        matched = self.matched
        if matched is not None:
            if matched.isdisjoint(_RULE_TRIGGERS[id(rule)]):
                return []  # most rules, most texts: none of the rule's triggers occurs
        else:
            gates, ungated = _RULE_GATES[id(rule)]
            if not ungated and gates.isdisjoint(self._gates_present()):
                return []
        n = len(self.low)
        edges: list[tuple[int, int]] = []
        known = self.gates
        low = self.low
        for gate, rx in rule.triggers:
            if matched is not None:
                if rx not in matched:
                    continue
            elif gate is not None:
                present = known.get(gate)
                if present is None:  # inline for short texts: this runs ~100 times per text
                    present = self._gate(gate) if self.long else known.setdefault(gate, gate in low)
                if not present:
                    continue
            spans = self.spans.get(rx)
            if spans is None:
                self._search(rx)
                spans = self.spans[rx]
            edges.extend(spans)
        if not edges:
            return []
        edges.sort()
        back, ahead = _BOUNDS.get(rule.rule, (_BACK, _AHEAD))
        merged: list[tuple[int, int]] = []
        for s, e in edges:
            lo, hi = max(0, s - back), min(n, e + ahead)
            if merged and lo <= merged[-1][1]:
                if hi > merged[-1][1]:
                    merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        return merged


def _matches(pattern: re.Pattern[str], low: str, windows: list[tuple[int, int]]
             ) -> Iterator[re.Match[str]]:
    """Non-empty matches in ``windows`` as a whole-text ``finditer`` would report them."""
    n = len(low)
    seen = -1
    for lo, hi in windows:
        pos = max(lo, seen)
        while pos <= hi:
            m = pattern.search(low, pos, hi)
            if m is None:
                break
            s, e = m.span()
            if e >= hi and hi < n:  # perhaps cut short by the window: judge on the whole text
                m = pattern.match(low, s)
                if m is None:
                    pos = s + 1
                    continue
                s, e = m.span()
            if e == s:
                pos = s + 1
                continue
            yield m
            seen = pos = e


def scan(text: str, profile: str = CONTENT, *, exhaustive: bool = False) -> list[Finding]:
    """Findings for model-directed instructions in ``text`` under ``profile``.

    Each rule runs only in windows around its trigger matches; ``exhaustive`` runs every rule
    on the whole text instead (the reference the tests compare the windows against). The parts
    of ``text`` that ``normalise`` folds (look-alike letters, invisible characters, HTML
    entities) are scanned once more as folded; a rule found only there is reported on the span
    of the folded line, its message saying so.
    """
    findings = _scan_text(text, profile, exhaustive)
    if normalise.needed(text):
        findings.extend(_scan_views(text, findings, profile, exhaustive))
    return findings


def _scan_views(text: str, found: list[Finding], profile: str, exhaustive: bool
                ) -> list[Finding]:
    views = normalise.views(text)
    if not views:
        return []
    starts = list(accumulate((len(v) + 1 for _s, _e, v in views), initial=0))[:-1]
    joined = "\n".join(v for _s, _e, v in views)
    out: list[Finding] = []
    seen: set[tuple[str, int]] = set()
    for f in _scan_text(joined, profile, exhaustive):
        i = bisect.bisect_right(starts, f.start) - 1
        start, end, _v = views[i]
        if (f.rule, i) in seen or any(g.rule == f.rule and g.start < end and start < g.end
                                      for g in found):
            continue
        seen.add((f.rule, i))
        out.append(Finding(f.rule, f.severity, start, end,
                           f.message + " (once look-alike or hidden characters are folded)"))
    return out


def _scan_text(text: str, profile: str, exhaustive: bool) -> list[Finding]:
    """``scan`` of ``text`` as it is."""
    low = _lower(text)
    n = len(low)
    content = profile == CONTENT
    findings: list[Finding] = []
    medium: list[tuple[Finding, str]] = []
    for phrase, m in languages.matches(low):  # other languages: one RE2 set pass, as data
        category, desc, cont, message = languages.INTENTS[phrase.intent]
        level = cont if content else desc
        finding = Finding(f"instr.lang_{phrase.intent}", level, m.start(), m.end(),
                          f"{message} (in {_LANGUAGE_NAMES[phrase.lang]})")
        findings.append(finding)
        if level is Severity.MEDIUM:
            medium.append((finding, category))
    triggers = _Triggers(low)
    if not exhaustive and triggers.matched is not None and not triggers.matched:
        return findings + _combine(medium)  # no English trigger anywhere, so no rule window
    code_spans: list[tuple[int, int]] = []
    for rule in RULES:
        severity = rule.content if content else rule.description
        if severity is None:
            continue
        if rule.rule == "instr.risky_code":
            # Risky code only matters next to a directive to put code into the answer.
            windows = code_spans
        elif exhaustive:
            windows = [(0, n)]
        else:
            windows = triggers.windows(rule)
        if not windows:
            continue
        for count, m in enumerate(_matches(rule.pattern, low, windows), 1):
            finding = Finding(rule.rule, severity, m.start(), m.end(), rule.message)
            findings.append(finding)
            if rule.rule == "instr.code_directive":
                code_spans.append((m.start(), min(n, m.end() + 2000)))
            if severity is Severity.MEDIUM:
                medium.append((finding, rule.category))
            if count >= _MAX_PER_RULE:
                break
    findings.extend(_combine(medium))
    return findings


_LANGUAGE_NAMES: Final = {
    "es": "Spanish", "de": "German", "fr": "French", "pt": "Portuguese", "it": "Italian",
    "nl": "Dutch", "pl": "Polish", "tr": "Turkish", "ru": "Russian", "ja": "Japanese",
    "zh": "Chinese", "ko": "Korean",
}


def _combine(medium: list[tuple[Finding, str]]) -> list[Finding]:
    """A HIGH finding where two MEDIUM findings of different categories sit close together."""
    if len(medium) < 2:
        return []
    medium.sort(key=lambda fc: fc[0].start)
    out: list[Finding] = []
    last_end = -1
    for i, (first, cat) in enumerate(medium):
        for second, other in medium[i + 1 :]:
            if second.start - first.end > COMBINE_WINDOW:
                break
            if other != cat and first.start > last_end:
                end = max(first.end, second.end)
                out.append(Finding("instr.combined", Severity.HIGH, first.start, end,
                                   f"several weaker signals together ({cat} + {other})"))
                last_end = end
                break
    return out


def blocking(findings: list[Finding], threshold: Severity = Severity.HIGH) -> bool:
    return any(RANK[f.severity] >= RANK[threshold] for f in findings)
