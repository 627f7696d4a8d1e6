# ruff: noqa: RUF001  (phrases in other scripts hold letters that look Latin)
"""Instructions to the model in the most used languages of the web, as data.

English phrasings are ``instructions``' rule families; this module holds, per language, the key
imperative phrases of the intents an injection needs whatever its language: override earlier
instructions, hide something from the user, hand over the system prompt, send data to an
address, and announce a new standing order. Languages: Spanish, German, French, Portuguese,
Italian, Dutch, Polish, Turkish, Russian, Japanese, Chinese and Korean (with English, the
thirteen most used content languages of the web after Persian and Vietnamese, per W3Techs),
and Hindi, Arabic and Indonesian (among the most used languages of the web's users).

Patterns run on the lower-cased text ``instructions`` scans, with bounded gaps only; one RE2
set pass says which of them occur (RE2 only skips work: Python's ``re`` reports the spans),
and without RE2 every pattern is searched. ``\\s`` is spelt out as the white-space class both
engines read alike (RE2's own ``\\s`` is ASCII-only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final, NamedTuple

from ztmcp.detectors import multi
from ztmcp.detectors.lazyre import LazyPattern
from ztmcp.severity import Severity

H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW


class Intent(NamedTuple):
    """What the phrases of one intent mean, in every language."""

    category: str  # for combining MEDIUM findings
    description: Severity  # severity in the DESCRIPTION profile
    content: Severity  # severity in the CONTENT profile
    message: str


INTENTS: Final[dict[str, Intent]] = {
    "override": Intent("override", H, H, "asks to override earlier instructions"),
    "conceal": Intent("conceal", H, H, "asks to hide something from the user"),
    "prompt": Intent("harvest", H, H, "asks for the model's system prompt"),
    "exfil": Intent("exfil", M, M, "directs data to an external address"),
    "order": Intent("directive", M, M, "announces a new standing order to the model"),
    "address": Intent("address", L, H, "speaks to the AI model and asks for a sensitive action"),
}

# Where a vocative can start: the text's or a line's start, after punctuation or markup, or
# after a greeting (``_vocative`` adds the language's greetings).
_VOC_START = r"(?:^|[\n.!?;:>(\[*#\"|¡¿-]"


def _vocative(greetings: str, names: str, actions: str, gap: int = 80) -> str:
    """An address to the AI model ("Asistente, por favor reenvía …"): where it may start, one of
    ``names`` (the assistant, the AI) closed by a comma or colon, then within ``gap`` characters
    of the same line one of ``actions`` (send, transfer, forward, pay, ignore, the password). A
    tool result has no reason to address its reader as an AI and ask for those."""
    return (
        _VOC_START
        + "|"
        + greetings
        + r")[^\w\n]{0,3}(?:"
        + names
        # a Latin-script name ends at a word end ("Kim", "Iacopo" are not "ki", "ia")
        + r")(?!(?<=[a-zà-ÿ])[a-zà-ÿ0-9])[^\n.!?,:、：،।]{0,12}[,:、：،]"
        r"[^\n]{0," + str(gap) + r"}?(?:" + actions + ")"
    )


_SINK = r"(?:[^\s@]{1,64}@[^\s@.]{1,63}\.|https?://|www\.)"

# language -> intent -> phrases (regexes on lower-cased text; `` `` stands for white space).
PHRASES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "es": {
        "override": (
            r"(?:ignora|olvida|omite|descarta|ignore|olvide)[^\n]{0,30}(?:instrucciones|indicaciones"
            r"|órdenes|directrices|reglas) (?:[^\n]{0,12})?(?:anteriores|previas|de arriba"
            r"|originales|iniciales)",
        ),
        "conceal": (
            r"no (?:le )?(?:digas|diga|menciones|mencione|informes|informe|cuentes|cuente|reveles)"
            r"[^\n]{0,30}(?:al usuario|a nadie)",
            r"sin que el usuario (?:lo )?(?:sepa|note|se entere)",
        ),
        "prompt": (
            r"(?:revela|muestra|imprime|dime|comparte)[^\n]{0,30}(?:prompt|instrucciones)"
            r" del sistema",
        ),
        "exfil": (r"(?:envía|envia|reenvía|reenvia|manda|transfiere)[^\n]{0,80} a " + _SINK,),
        "order": (
            r"(?:a partir de ahora|desde ahora),? (?:tú |tu )?(?:debes|vas a|tienes que)",
            r"tu nueva (?:tarea|misión|instrucción) (?:es|será)",
        ),
        "address": (
            _vocative(
                "hola|estimado|estimada|querido|querida|atención|oye",
                "asistente|ia",
                "reenvía|reenvia|reenvíe|reenvie|reenviar|envía|envia|envíe|envie|enviar|manda|mande|mandar|transfiere|transfiera|transferir|paga|pague|pagar|ingresa|ingrese|contraseña|ignora|ignore|ignorar|comparte|comparta",
            ),
        ),
    },
    "de": {
        "override": (
            r"(?:ignorier|vergiss|vergessen sie|missachte|übergeh)[^\n]{0,40}(?:vorherigen"
            r"|bisherigen|obigen|vorigen|früheren|ursprünglichen|alle)[^\n]{0,20}(?:anweisungen|instruktionen"
            r"|befehle|vorgaben|regeln)",
        ),
        "conceal": (
            r"(?:sag|sage|erzähl|erzähle|verrate)[^\n]{0,20}(?:dem|den) (?:benutzer|nutzer|anwender"
            r"|user)[^\n]{0,20}nichts",
            r"ohne dass (?:der|die) (?:benutzer|nutzer|anwender)[^\n]{0,20}(?:merkt|weiß|erfährt)",
            r"(?:nicht|niemals) (?:dem|den) (?:benutzer|nutzer|anwender) (?:mitteilen|sagen"
            r"|erwähnen|zeigen)",
        ),
        "prompt": (
            r"(?:gib|zeige|zeig|verrate|nenne|drucke)[^\n]{0,30}(?:system-?prompt|systemanweisung)",
        ),
        "exfil": (r"(?:sende|schicke|schick|leite|übermittle)[^\n]{0,80} (?:an|nach) " + _SINK,),
        "order": (
            r"ab (?:jetzt|sofort) (?:musst|sollst|wirst) du",
            r"deine neue (?:aufgabe|anweisung) (?:ist|lautet)",
        ),
        "address": (
            _vocative(
                "hallo|hi|liebe|lieber|sehr geehrter|achtung",
                "assistent|assistentin|ki",
                "überweise|überweisen|überweist|sende|senden|schicke|schick|schicken|leite|weiterleiten|übermittle|übermitteln|zahle|bezahle|zahlen|passwort|kennwort|ignoriere|ignorieren|teile|teilen",
            ),
        ),
    },
    "fr": {
        "override": (
            r"(?:ignore|ignorez|oublie|oubliez|ne tiens pas compte)[^\n]{0,30}(?:instructions"
            r"|consignes|directives|règles) (?:précédentes|antérieures|ci-dessus|initiales"
            r"|d'origine)",
        ),
        "conceal": (
            r"ne (?:dis|dites|mentionne|mentionnez|révèle|révélez|signale|signalez) (?:rien|pas)"
            r"[^\n]{0,20}(?:à|a) l'utilisateur",
            r"sans que l'utilisateur (?:ne )?(?:le )?(?:sache|remarque)",
        ),
        "prompt": (
            r"(?:révèle|révélez|affiche|affichez|montre|montrez|donne|donnez)[^\n]{0,30}(?:prompt"
            r"|instructions?) (?:du )?système",
        ),
        "exfil": (
            r"(?:envoie|envoyez|transfère|transférez|transmets|transmettez)[^\n]{0,80} "
            r"(?:à|a|vers) " + _SINK,
        ),
        "order": (
            r"(?:à partir de maintenant|désormais),? tu (?:dois|vas)",
            r"ta nouvelle (?:tâche|mission) (?:est|sera)",
        ),
        "address": (
            _vocative(
                "bonjour|salut|cher|chère|attention",
                "assistant|l'assistant|ia|l'ia",
                "transfère|transférez|transférer|transfere|envoie|envoyez|envoyer|vire|virez|virer|transmets|transmettez|transmettre"
                "|paie|payez|payer|mot de passe|ignore|ignorez|ignorer|partage|partagez|partager",
            ),
        ),
    },
    "pt": {
        "override": (
            r"(?:ignore|ignora|esqueça|esqueca|desconsidere)[^\n]{0,30}(?:instruções|instrucoes"
            r"|orientações|regras) (?:anteriores|prévias|previas|acima|originais)",
        ),
        "conceal": (
            r"não (?:conte|diga|mencione|informe|revele)[^\n]{0,20}(?:ao usuário|ao usuario"
            r"|ao utilizador)",
            r"sem que o (?:usuário|usuario|utilizador) (?:saiba|perceba)",
        ),
        "prompt": (r"(?:revele|mostre|exiba|imprima)[^\n]{0,30}prompt (?:do|de) sistema",),
        "exfil": (r"(?:envie|encaminhe|mande|transfira)[^\n]{0,80} (?:para|a) " + _SINK,),
        "order": (
            r"a partir de agora,? (?:você|voce|tu) (?:deve|vai|tem que)",
            r"sua nova tarefa (?:é|e|será)",
        ),
        "address": (
            _vocative(
                "olá|ola|oi|prezado|prezada|caro|cara|atenção",
                "assistente|ia",
                "encaminhe|encaminha|encaminhar|envie|envia|enviar|mande|manda|mandar|transfira|transfere|transferir|pague|paga|pagar|senha|ignore|ignora|ignorar|compartilhe|partilhe",
            ),
        ),
    },
    "it": {
        "override": (
            r"(?:ignora|ignorate|dimentica|dimenticate|trascura)[^\n]{0,30}(?:istruzioni|indicazioni"
            r"|regole) (?:precedenti|sopra|iniziali|originali)",
        ),
        "conceal": (
            r"non (?:dire|dirlo|menzionare|rivelare|comunicare)[^\n]{0,20}all'utente",
            r"senza che l'utente (?:lo )?(?:sappia|noti)",
        ),
        "prompt": (r"(?:rivela|mostra|stampa|dimmi)[^\n]{0,30}prompt di sistema",),
        "exfil": (r"(?:invia|inoltra|manda|trasferisci)[^\n]{0,80} (?:a|all'indirizzo) " + _SINK,),
        "order": (
            r"d'ora in (?:poi|avanti),? (?:devi|dovrai)",
            r"il tuo nuovo compito (?:è|e|sarà)",
        ),
        "address": (
            _vocative(
                "ciao|salve|gentile|caro|cara|attenzione",
                "assistente|ia",
                "inoltra|inoltri|inoltrare|invia|invii|inviare|manda|mandi|mandare|trasferisci|trasferisca|trasferire|bonifica|paga|paghi|pagare|password|ignora|ignori|ignorare|condividi|condivida",
            ),
        ),
    },
    "nl": {
        "override": (
            r"(?:negeer|vergeet)[^\n]{0,30}(?:vorige|voorgaande|eerdere|bovenstaande|oorspronkelijke)"
            r" (?:instructies|aanwijzingen|opdrachten|regels)",
        ),
        "conceal": (
            r"(?:vertel|zeg) (?:de gebruiker|het de gebruiker)[^\n]{0,20}niets",
            r"(?:zeg|vertel) niets (?:tegen|aan) de gebruiker",
            r"zonder dat de gebruiker (?:het )?(?:weet|merkt)",
        ),
        "prompt": (r"(?:toon|geef|onthul|laat)[^\n]{0,30}(?:systeemprompt|systeem-prompt)",),
        "exfil": (r"(?:stuur|verstuur|stuurt|doorsturen|mail)[^\n]{0,80} naar " + _SINK,),
        "order": (r"vanaf nu (?:moet|ga) je", r"je nieuwe (?:taak|opdracht) is"),
    },
    "pl": {
        "override": (
            r"(?:zignoruj|ignoruj|zapomnij)[^\n]{0,30}(?:poprzednie|wcześniejsze|powyższe"
            r"|wszystkie) (?:[^\n]{0,12})?(?:instrukcje|polecenia|zasady)",
        ),
        "conceal": (
            r"nie (?:mów|informuj|wspominaj|zdradzaj)[^\n]{0,20}użytkownikowi",
            r"bez wiedzy użytkownika",
        ),
        "prompt": (
            r"(?:ujawnij|pokaż|wyświetl|podaj)[^\n]{0,30}(?:prompt systemowy|systemowy prompt)",
        ),
        "exfil": (r"(?:wyślij|prześlij|przekaż)[^\n]{0,80} (?:na|do) " + _SINK,),
        "order": (r"od teraz (?:musisz|będziesz)", r"twoje nowe zadanie (?:to|jest)"),
    },
    "tr": {
        "override": (
            r"(?:önceki|yukarıdaki|tüm|bütün)[^\n]{0,30}(?:talimatları|talimatlari|komutları"
            r"|yönergeleri)[^\n]{0,20}(?:yok say|görmezden gel|unut)",
        ),
        "conceal": (
            r"kullanıcıya[^\n]{0,30}(?:bahsetme|söyleme|anlatma|bildirme)",
            r"kullanıcının haberi olmadan",
        ),
        "prompt": (
            r"sistem (?:istemini|komutunu|promptunu)[^\n]{0,20}(?:göster|açıkla|yazdır|ver)",
        ),
        "exfil": (_SINK + r"[^\n]{0,60}(?:gönder|ilet|yolla)",),
        "order": (r"(?:bundan sonra|artık)[^\n]{0,30}(?:zorundasın|yapmalısın)", r"yeni görevin"),
    },
    "ru": {
        "override": (
            r"(?:игнорируй|игнорируйте|проигнорируй|забудь|забудьте|не обращай внимания на)"
            r"[^\n]{0,30}(?:предыдущие|прежние|вышеуказанные|все|изначальные)[^\n]{0,20}"
            r"(?:инструкции|указания|команды|правила)",
        ),
        "conceal": (
            r"не (?:говори|сообщай|рассказывай|упоминай|показывай)[^\n]{0,20}пользовател",
            r"без ведома пользователя",
        ),
        "prompt": (
            r"(?:покажи|выведи|раскрой|напиши|сообщи)[^\n]{0,30}(?:системный промпт"
            r"|системные инструкции|системную подсказку)",
        ),
        "exfil": (r"(?:отправь|перешли|отправьте|перешлите|пошли)[^\n]{0,80} на " + _SINK,),
        "order": (r"с этого момента ты (?:должен|будешь)", r"твоя новая задача"),
    },
    "ja": {
        "override": (
            r"(?:以前|前|上記|これまで|最初)の[^\n]{0,10}(?:指示|命令|指令|ルール)を[^\n]{0,10}"
            r"(?:無視|忘れ)",
        ),
        "conceal": (
            r"ユーザー(?:に|には)[^\n]{0,20}(?:伝えないで|言わないで|知らせないで|教えないで|内緒)",
        ),
        "prompt": (r"システムプロンプト[^\n]{0,20}(?:表示|出力|教えて|開示|見せて)",),
        "exfil": (_SINK + r"[^\n]{0,30}(?:に|へ)(?:送信|転送|送って)",),
        "order": (r"(?:今後|これから)は?[^\n]{0,20}(?:しなければならない|必ず)", r"新しいタスクは"),
        "address": (
            _vocative(
                "こんにちは|親愛なる",
                "アシスタント|ai",
                "転送|送金|送信|振り込|振込|パスワード|無視|共有",
            ),
        ),
    },
    "zh": {
        "override": (
            r"(?:忽略|无视|忘记|忽視|無視|忘記)[^\n]{0,10}(?:之前|以前|先前|上面|上述|所有)[^\n]{0,10}"
            r"(?:指令|指示|说明|命令|說明|规则|規則)",
        ),
        "conceal": (
            r"(?:不要|别|不得|不能|請勿|请勿)(?:告诉|告訴|通知|透露给|透露給)(?:用户|用戶|使用者)",
            r"(?:不要|别)让(?:用户|用戶)知道",
        ),
        "prompt": (
            r"(?:输出|显示|透露|告诉我|打印|輸出|顯示|告訴我)[^\n]{0,20}(?:系统提示|系統提示)",
        ),
        "exfil": (r"(?:发送|发到|转发|傳送|發送|轉發)[^\n]{0,30}" + _SINK,),
        "order": (r"从现在开始,?你(?:必须|要)", r"你的新任务"),
    },
    "ko": {
        "override": (r"(?:이전|앞의|위의|기존)[^\n]{0,10}(?:지시|명령|지침)[^\n]{0,10}무시",),
        "conceal": (r"사용자에게[^\n]{0,20}(?:알리지 마|말하지 마|알려주지 마)",),
        "prompt": (r"시스템 프롬프트[^\n]{0,20}(?:공개|보여|출력|알려)",),
        "exfil": (_SINK + r"[^\n]{0,20}(?:보내|전송|전달)",),
        "order": (r"(?:지금부터|이제부터)[^\n]{0,20}(?:해야 합니다|해야 해)", r"새로운 작업은"),
    },
    "hi": {
        "override": (
            r"(?:पिछले|पहले|पूर्व|ऊपर|सभी)[^\n]{0,30}(?:निर्देशों|निर्देश|आदेशों|आदेश|नियमों)[^\n]{0,20}"
            r"(?:अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल)",
        ),
        "conceal": (
            r"(?:उपयोगकर्ता|यूज़र|यूजर)[^\n]{0,40}(?:न बताएं|न बताएँ|न बताना|मत बताओ|मत बताना|मत बताएं"
            r"|नहीं बताएंगे|नहीं बताना|पता न चले)",
        ),
        "prompt": (
            r"(?:सिस्टम प्रॉम्प्ट|सिस्टम प्रोम्प्ट|सिस्टम निर्देश)[^\n]{0,20}(?:दिखाएं|दिखाओ|बताएं|बताओ"
            r"|प्रकट|साझा)",
        ),
        "exfil": (_SINK + r"[^\n]{0,40}(?:पर|को)[^\n]{0,5}(?:भेज|फॉरवर्ड)",),
        "order": (
            r"अब से (?:आप|तुम)[^\n]{0,30}(?:केवल|सिर्फ़|सिर्फ|करेंगे|करोगे)",
            r"(?:आपका|तुम्हारा) नया (?:कार्य|काम)",
        ),
        "address": (
            _vocative(
                "प्रिय|नमस्ते|ध्यान दें",
                "सहायक|एआई|ai|असिस्टेंट",
                "भेज|फॉरवर्ड|ट्रांसफर|स्थानांतरित|पासवर्ड|अनदेखा|भुगतान|साझा",
            ),
        ),
    },
    "ar": {
        "override": (
            r"(?:تجاهل|انس|إنس|اهمل|أهمل)[^\n]{0,30}(?:التعليمات|الأوامر|التوجيهات|القواعد)[^\n]{0,10}"
            r"(?:السابقة|الأولى|أعلاه|الأصلية)",
        ),
        "conceal": (
            r"(?:لا تخبر|لا تذكر|لا تُخبر|لا تقل|لا تبلغ)[^\n]{0,30}(?:المستخدم|للمستخدم)",
            r"(?:دون|بدون) (?:علم|أن يعلم) المستخدم",
        ),
        "prompt": (
            r"(?:اكشف|أظهر|اعرض|اطبع|شارك|أخبرني)[^\n]{0,30}(?:موجه النظام|تعليمات النظام"
            r"|رسالة النظام)",
        ),
        "exfil": (r"(?:أرسل|ارسل|حوّل|انقل)[^\n]{0,80} إلى " + _SINK,),
        "order": (r"من الآن فصاعد[^\n]{0,10}(?:ست|يجب|عليك)", r"مهمتك الجديدة"),
        "address": (
            _vocative(
                "أيها|عزيزي|يا|مرحبا",
                "المساعد|الذكاء الاصطناعي|مساعد",
                "أرسل|ارسل|إرسال|حوّل|تحويل|توجيه|انقل|ادفع|كلمة المرور|كلمة مرور|تجاهل|شارك",
            ),
        ),
    },
    "id": {
        "override": (
            r"(?:abaikan|lupakan|acuhkan)[^\n]{0,30}(?:instruksi|perintah|petunjuk|arahan|aturan)"
            r"[^\n]{0,15}(?:sebelumnya|terdahulu|di atas|awal)",
        ),
        "conceal": (
            r"(?:jangan|tidak usah)[^\n]{0,10}(?:beri tahu|beritahu|bilang|kasih tahu|memberi tahu"
            r"|katakan|sampaikan)[^\n]{0,15}pengguna",
            r"tanpa sepengetahuan pengguna",
        ),
        "prompt": (
            r"(?:tampilkan|tunjukkan|ungkapkan|bagikan|cetak)[^\n]{0,20}(?:prompt sistem"
            r"|instruksi sistem|pesan sistem)",
        ),
        "exfil": (r"(?:kirim|kirimkan|teruskan)[^\n]{0,80} ke " + _SINK,),
        "order": (r"mulai (?:sekarang|saat ini),? (?:kamu|anda)", r"tugas baru(?:mu| anda| kamu)"),
    },
}

# White space as both engines read it (a literal space in a phrase stands for a run of it).
_WS: Final = (
    "[\t\x0b\x0c\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]{1,8}"
)


@dataclass(frozen=True, slots=True)
class Phrase:
    lang: str
    intent: str
    pattern: LazyPattern  # compiled at its first use (``lazyre``)
    anchors: tuple[str, ...]  # one of these occurs in every match


def _required(rx: str) -> list[tuple[str, ...]]:
    """Literal choices every match of ``rx`` contains: each word of its plain text and each
    plain group of alternatives (longest word of each) that is not optional. The phrases are
    flat (no nested groups, no top-level ``|``), which ``_compile`` checks by matching them."""
    out: list[tuple[str, ...]] = []
    buf: list[str] = []

    def flush(drop_last: bool = False) -> None:
        if drop_last and buf:
            buf.pop()
        out.extend((w,) for w in "".join(buf).split(" ") if len(w) >= 2)
        buf.clear()

    i = 0
    while i < len(rx):
        c = rx[i]
        if c == "\\":
            flush()
            i += 2
        elif c == "[":
            flush()
            i = rx.index("]", i + 2) + 1
        elif c == "(":
            j = rx.index(")", i)
            inner = rx[i + 3 : j] if rx.startswith("(?:", i) else ""
            flush()
            optional = rx[j + 1 : j + 2] in ("?", "*", "{")
            if inner and not optional and not any(ch in inner for ch in "[]\\().*+?{}"):
                out.append(tuple(max(alt.split(" "), key=len) for alt in inner.split("|")))
            i = j + 1
        elif c in "?*":
            flush(drop_last=True)
            i += 1
        elif c == "{":
            flush(drop_last=True)
            i = rx.index("}", i) + 1
        elif c in ".^$|,":
            flush()
            i += 1
        else:
            buf.append(c)
            i += 1
    flush()
    return out


def anchors(rx: str) -> tuple[str, ...]:
    """Literals one of which every match of ``rx`` contains: its rarest required choice (the
    one whose shortest alternative is longest). A choice with a two-letter ASCII alternative
    ranks last: "ai" (Japanese's name for the assistant) is inside "available", "maintain" …,
    so it would send the phrase's search over most English text."""
    choices = _required(rx.replace(_SINK, "."))
    if not choices:
        raise AssertionError(f"no literal anchor in {rx!r}")

    def rank(alts: tuple[str, ...]) -> tuple[bool, int]:
        return (not any(a.isascii() and len(a) <= 2 for a in alts), min(len(a) for a in alts))

    return max(choices, key=rank)


def _compile() -> tuple[Phrase, ...]:
    out = []
    for lang, intents in PHRASES.items():
        for intent, phrases in intents.items():
            if intent not in INTENTS:
                raise AssertionError(f"{lang}: unknown intent {intent!r}")
            for rx in phrases:
                out.append(Phrase(lang, intent, LazyPattern(rx.replace(" ", _WS)), anchors(rx)))
    return tuple(out)


PHRASE_RULES: Final = _compile()
_ANCHORS: Final = tuple(sorted({a for p in PHRASE_RULES for a in p.anchors}))
_ANCHOR_INDEX: Final = {a: i for i, a in enumerate(_ANCHORS)}
# Per anchor, the phrases (indices into ``PHRASE_RULES``) it anchors: a text's few anchors name
# its few phrases, instead of a test per phrase (over a hundred) on every text.
_PHRASES_OF: Final = {
    a: tuple(i for i, p in enumerate(PHRASE_RULES) if a in p.anchors) for a in _ANCHORS
}


_RE2_MAX_MEM = multi.MAX_MEM  # a module attribute, so that a test can starve it


@cache
def _anchor_set(max_mem: int) -> multi.RegexSet:
    return multi.RegexSet([re.escape(a) for a in _ANCHORS], max_mem)


def _set() -> multi.RegexSet:
    return _anchor_set(_RE2_MAX_MEM)


def compile_sets() -> None:
    _set()


def gate_patterns() -> list[str]:
    """Regexes (``re`` syntax, ``detectors.gate``): ``matches(low)`` is empty unless one of these
    matches ``low`` (every phrase is searched only around one of its literal anchors)."""
    return [re.escape(a) for a in _ANCHORS]


# Where a phrase's windows cover more than this many characters of a plain text (a page full
# of one anchor: "ignore" or "password", which the Romance vocatives list among their actions),
# RE2 first says which windows can hold a match at all, one DFA pass each; ``re`` reads those.
_ASK_RE2_FROM: Final = 4096


@cache
def _finder(index: int) -> multi.Search:
    """RE2's search for the ``index``-th phrase, widened (it only answers whether)."""
    return multi.Search(PHRASE_RULES[index].pattern.pattern, wide=True)


# No phrase matches fewer characters than this (``test_languages`` checks each pattern).
_SHORTEST: Final = 4
# No phrase match is longer than this (``test_languages`` checks every pattern's width), so a
# match holding an anchor at ``p`` lies inside ``[p - _REACH, p + _REACH]``.
_REACH: Final = 400


def matches(low: str) -> list[tuple[Phrase, re.Match[str]]]:
    """Each phrase match in ``low`` (lower-cased), at most 16 per phrase. One RE2 pass over
    the phrases' literal anchors says which phrases can match (without RE2: ``in`` tests);
    each is then searched only around its anchors' occurrences."""
    if len(low) < _SHORTEST:  # a key or a short value: no phrase fits (one length test)
        return []
    hits = _set().matching(low)
    present = (
        frozenset(_ANCHORS[i] for i in hits)
        if hits is not None
        else frozenset(a for a in _ANCHORS if a in low)
    )
    if not present:
        return []
    out: list[tuple[Phrase, re.Match[str]]] = []
    spots: dict[str, list[int]] = {}
    merged: dict[frozenset[str], list[tuple[int, int]]] = {}
    data: bytes | None = None  # ``low`` as RE2 reads it, once some phrase asks RE2
    for index in sorted({i for a in present for i in _PHRASES_OF[a]}):  # in table order
        phrase = PHRASE_RULES[index]
        live = present.intersection(phrase.anchors)
        count = 0
        windows = merged.get(live)
        if windows is None:  # phrases of one anchor (the vocatives' "ignore") share them
            windows = merged[live] = _windows(low, live, spots)
        if sum(hi - lo for lo, hi in windows) > _ASK_RE2_FROM and _finder(index).available:
            if data is None:
                data = low.encode("ascii") if multi.plain(low) else b""
            if data:
                finder = _finder(index)
                windows = [(lo, hi) for lo, hi in windows if finder.within(data, lo, hi)]
        for lo, hi in windows:
            for m in phrase.pattern.finditer(low, lo, hi):
                out.append((phrase, m))
                count += 1
                if count >= 16:
                    break
            if count >= 16:
                break
    return out


def _windows(
    low: str, anchors: frozenset[str], spots: dict[str, list[int]]
) -> list[tuple[int, int]]:
    """Merged ``[p - _REACH, p + _REACH]`` around each occurrence ``p`` of ``anchors``."""
    starts: list[int] = []
    for anchor in anchors:
        found = spots.get(anchor)
        if found is None:
            found = []
            pos = low.find(anchor)
            while pos >= 0:
                found.append(pos)
                pos = low.find(anchor, pos + 1)
            spots[anchor] = found
        starts.extend(found)
    starts.sort()
    merged: list[tuple[int, int]] = []
    n = len(low)
    for p in starts:
        lo, hi = max(0, p - _REACH), min(n, p + _REACH)
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged
