"""The detectors' rules as data: frozen ``Rule`` values with their triggers, no engine code.

- ``instructions``: the English phrasings of instructions aimed at the model;
- ``secrets``: the provider credential shapes.

The phrases in other languages are data in ``ztmcp.detectors.languages``.
"""
