"""Characters PostgreSQL cannot store in text or jsonb: NUL, and lone UTF-16 surrogates (which also cannot be
encoded as UTF-8). Input from people is refused with them (a 400 naming the field); input from providers is
kept with them removed, so a reply that carries one is still a reply."""

import re

UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def unstorable_in(text: str) -> str:
    """What is wrong with the text, or ''."""
    if "\x00" in text:
        return "a NUL character (\\u0000)"
    if UNSTORABLE_RE.search(text):
        return "a lone surrogate (\\ud800-\\udfff)"
    return ""


def strip_unstorable(value):
    """(value with every unstorable character removed, how many were removed), through dicts and lists."""
    if isinstance(value, str):
        cleaned, count = UNSTORABLE_RE.subn("", value)
        return cleaned, count
    if isinstance(value, dict):
        total, out = 0, {}
        for key, item in value.items():
            clean_key, n_key = strip_unstorable(key)
            clean_item, n_item = strip_unstorable(item)
            out[clean_key] = clean_item
            total += n_key + n_item
        return out, total
    if isinstance(value, list):
        total, out = 0, []
        for item in value:
            clean_item, n = strip_unstorable(item)
            out.append(clean_item)
            total += n
        return out, total
    return value, 0
