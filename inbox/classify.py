"""What a reply says, by deterministic rules: no network, no model, the same answer every time.

Classes, checked in this order (the first that matches wins; a missed opt-out is the worst error, so it
comes first and its rules are broad): opt-out, out of office (with the return date when written), referral
(with the name or email of the other person), not interested, not now (with a date when written), interested,
question, other. Rules for English, French, German, Spanish, Dutch and Portuguese, matched on text folded to
lower case without accents. `manage.py reply_classes_report` prints precision and recall on the labelled set.
"""

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from dateutil.easter import easter

OPT_OUT, OUT_OF_OFFICE, REFERRAL = "opt_out", "out_of_office", "referral"
NOT_INTERESTED, NOT_NOW, INTERESTED, QUESTION, OTHER = "not_interested", "not_now", "interested", "question", "other"
CLASSES = [
    (INTERESTED, "Interested"),
    (QUESTION, "Question"),
    (NOT_NOW, "Not now"),
    (NOT_INTERESTED, "Not interested"),
    (OUT_OF_OFFICE, "Out of office"),
    (REFERRAL, "Referral"),
    (OPT_OUT, "Opt-out"),
    (OTHER, "Other"),
]


def fold(text: str) -> str:
    """Lower case, accents off, ß as ss, apostrophes plain, spaces collapsed."""
    text = text.replace("ß", "ss").replace("\u2019", "'").replace("\u2018", "'")
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip()


def _rules(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


RULES: list[tuple[str, re.Pattern]] = [
    (
        OPT_OUT,
        _rules(
            # English
            r"\bremove me\b", r"\bunsubscrib", r"\btake me off\b", r"\boff (of )?your (list|mailing|database)",
            r"\bfrom your (list|mailing list|database|contacts)", r"\bstop (contacting|messaging|writing|sending|emailing|spamming)",
            r"\b(do not|don'?t|dont|never) (contact|message|write to|email|spam|reach out to) me", r"\bopt(ed)? (me )?out\b",
            r"\bno (more|further) (messages|emails|contact)", r"\bleave me alone\b", r"\bdelete my (data|details|information|contact)",
            r"\b(under|per|a) gdpr (request|deletion)?", r"^\W*stop\W*$", r"\bnot (to )?contact me again\b", r"\bstop this\b", r"\bplease stop\b",
            r"\bwrong list\b",
            # French
            r"\bdesinscri", r"\bdesabonn", r"\bretirez[- ]moi\b", r"\bne (plus )?me (contactez|contacter|recontactez|ecrivez)",
            r"\bne me (contactez|ecrivez) plus\b", r"\barretez de (me|m')", r"\bsupprimez[- ]moi\b", r"\bsupprimer mes (donnees|coordonnees)",
            r"\bsupprimez mes (donnees|coordonnees)", r"\blaissez[- ]moi tranquille", r"\bne plus (etre contacte|recevoir)",
            r"\bretirer de votre liste", r"\bde votre (liste|fichier)",
            r"\bne (souhaite|veux) plus (etre contacte|etre sollicite|recevoir)",
            # German
            r"\babmelden\b", r"\bmelden sie mich ab\b", r"\baustragen\b", r"\btragen sie mich aus", r"\bentfernen sie mich",
            r"\bkeine (weiteren |weitere )?(nachrichten|e-?mails|kontaktaufnahme)", r"\bkontaktieren sie mich (bitte )?nicht",
            r"\bnicht mehr (kontaktieren|anschreiben|schreiben)", r"\bloschen sie meine (daten|kontaktdaten)", r"\blassen sie mich in ruhe",
            r"\bhoren sie auf,? mir", r"\bschreiben sie mir nicht",
            # Spanish
            r"\bdar(me|se) de baja\b", r"\bdenme de baja\b", r"\bno me (contacte|contactes|contacten|escriba|escribas|escriban|vuelva)",
            r"\bdej(e|en|a) de (escribir|enviar|contactar)", r"\b(eliminen|borren|borrar|eliminar) mis datos", r"\b(quitame|sacame|quitenme|saquenme) de",
            r"\bno quiero recibir (mas )?(mensajes|correos)", r"\bno me molest",
            # Dutch
            r"\bafmelden\b", r"\buitschrijven\b", r"\bschrijf me uit\b", r"\bverwijder (mij|me)\b", r"\bneem geen contact\b",
            r"\bgeen (berichten|mails|e-?mails) meer", r"\bstop met (sturen|mailen|berichten|benaderen)", r"\bniet meer (contacteren|benaderen|mailen)",
            r"\blaat me met rust", r"\bverwijder mijn gegevens",
            # Portuguese
            r"\bdescadastr", r"\bremova-?me\b", r"\bremover-?me\b", r"\bme remova\b", r"\bnao me (contate|contacte|envie|mande|procure)",
            r"\bpar(e|em) de (enviar|mandar|me contatar|me contactar|me escrever)", r"\bnao quero (mais )?receber",
            r"\bapaguem (os )?meus dados", r"\b(me )?tire(m)?(-me)? da (sua )?lista", r"\btirem-me\b", r"\bexclua meus dados",
        ),
    ),
    (
        OUT_OF_OFFICE,
        _rules(
            r"\bout of (the )?office\b", r"\bon (annual |parental |maternity |paternity |sick )?leave\b", r"\bon (vacation|holiday|holidays)\b",
            r"\baway from (the office|my desk)", r"\bi am away\b", r"\bi'?m away\b", r"\bback (in the office )?on\b", r"\bwill be back\b",
            r"\breturn(ing)? (to the office )?on\b", r"\blimited access to (email|e-mail|messages|linkedin)", r"\bauto(matic)?[- ]?reply\b",
            r"\bautomatic response\b", r"\bcurrently travell?ing\b",
            r"\babsente? (du bureau|jusqu)", r"\ben conges\b", r"\ben vacances\b", r"\bde retour le\b", r"\bje serai de retour\b",
            r"\breponse automatique\b", r"\ben conge (maternite|parental)",
            r"\babwesend\b", r"\bim urlaub\b", r"\bausser haus\b", r"\bnicht im buro\b", r"\bwieder im buro\b", r"\bautomatische antwort\b",
            r"\bnicht erreichbar\b", r"\belternzeit\b", r"\bab dem .{0,20} wieder\b",
            r"\bfuera de la oficina\b", r"\bde vacaciones\b", r"\bestare de vuelta\b", r"\bregreso el\b", r"\bvolvere el\b",
            r"\brespuesta automatica\b", r"\bausente hasta\b",
            r"\bafwezig\b", r"\bop vakantie\b", r"\bbuiten kantoor\b", r"\bweer terug op\b", r"\bben (weer )?terug (op|vanaf)\b",
            r"\bautomatisch antwoord\b", r"\bniet aanwezig\b",
            r"\bfora do escritorio\b", r"\bde ferias\b", r"\bestarei de volta\b", r"\bretorno (em|no dia|dia)\b", r"\bvolto (dia|no dia|em)\b",
            r"\bresposta automatica\b", r"\bausente ate\b",
        ),
    ),
    (
        REFERRAL,
        _rules(
            r"\b(right|better|best|correct) (person|contact)\b",
            r"\b(speak|talk|reach out|get in touch) (to|with) (our|my|the) (head|director|vp|manager|team|cmo|ceo|cto|coo|cfo)\b", r"\bnot the (right|best) (person|contact)", r"\b(contact|reach out to|speak (to|with)|talk (to|with)|get in touch with|write to|ping) (my )?(colleague|coworker|team ?mate|boss|manager|head of)",
            r"\bin charge of (this|that|sales|marketing|purchasing|procurement|partnerships)", r"\bresponsible for (this|that)", r"\bhandles (this|that|these)\b",
            r"\bforward(ed|ing)? (this|it|your message) to\b", r"\blooping in\b", r"\bi'?ve (cc'?d|copied)\b",
            r"\bla bonne personne\b", r"\b(contactez|voyez avec|adressez-vous a|ecrivez a) (plutot )?(mon|ma|notre)? ?(collegue|responsable|directeur|directrice)",
            r"\badressez-vous a\b", r"\bvoyez avec\b", r"\bje transmets (a|votre message)", r"\bs'en occupe\b", r"\bqui gere (ce|cela|ca)",
            r"\bwenden sie sich (bitte )?an\b", r"\bansprechpartner(in)? (ist|dafur)", r"\bzustandig (ist|dafur)", r"\bmein(e)? kolleg(e|in)\b",
            r"\bleite (das|ihre nachricht|es) (an|weiter)", r"\brichtige person\b",
            r"\bla persona (adecuada|indicada|correcta)\b", r"\b(hable|habla|hablen) con\b", r"\bcontacte a\b", r"\bmi (companer|colega)",
            r"\bse encarga\b", r"\ble reenvio\b",
            r"\bde juiste persoon\b", r"\bneem (contact op met|contact met)\b", r"\bmijn collega\b", r"\bspreek met\b", r"\bstuur (ik|het) door\b",
            r"\ba pessoa (certa|indicada|correta)\b", r"\b(fale|falar|converse) com\b", r"\b(meu|minha) colega\b", r"\bresponsavel (e|por isso)\b",
            r"\bencaminhei\b", r"\bvou encaminhar\b",
        ),
    ),
    (
        NOT_INTERESTED,
        _rules(
            r"\bnot interested\b", r"\bno interest\b", r"\bno,? thanks?\b", r"\bno,? thank you\b", r"\bnot for us\b", r"\bnot for me\b",
            r"\bwe('re| are) (all )?(set|good|covered)\b", r"\balready (have|work with|use) (a|an|our)\b", r"\b(not|isn'?t|is not) a (good |great )?fit\b", r"\bnot relevant\b",
            r"\bwe (don'?t|do not) need\b", r"\bi (don'?t|do not) need\b", r"\bnot looking for\b", r"\bi'?ll pass\b", r"\bwe'?ll pass\b", r"\bpass on this\b",
            r"\bno need\b", r"\bnot something we\b",
            r"\bpas interesse", r"\bnon merci\b", r"\bne nous interesse pas\b", r"\bne m'interesse pas\b", r"\bpas besoin\b",
            r"\bnous (avons|utilisons) deja\b", r"\bpas pour nous\b", r"\bpas pertinent\b", r"\bsans interet\b",
            r"\bkein interesse\b", r"\bnein,? danke\b", r"\bnicht interessiert\b", r"\bbrauchen wir nicht\b", r"\bhaben (bereits|schon) (einen|eine|ein)\b",
            r"\bnicht relevant\b", r"\bpasst nicht\b", r"\bkein bedarf\b",
            r"\bno me interesa\b", r"\bno nos interesa\b", r"\bno (estoy|estamos) interesad", r"\bno,? gracias\b", r"\bya (tenemos|trabajamos con)\b",
            r"\bno lo necesitamos\b", r"\bno es para nosotros\b",
            r"\bgeen interesse\b", r"\bniet geinteresseerd\b", r"\bnee,? (bedankt|dank je)\b", r"\bwe hebben al\b", r"\bniet nodig\b",
            r"\bniet relevant\b", r"\bgeen behoefte\b",
            r"\bnao (tenho|temos) interesse\b", r"\bnao (estou|estamos) interessad", r"\bnao,? obrigad", r"\bja (temos|trabalhamos com)\b",
            r"\bnao precisamos\b", r"\bnao e para nos\b", r"\bsem interesse\b",
        ),
    ),
    (
        NOT_NOW,
        _rules(
            r"\bnot (right )?now\b", r"\bnot at the moment\b", r"\bnot at this (time|point|stage)\b", r"\bmaybe later\b",
            r"\b(reach|circle|check|come) back\b", r"\btry (me|us|again)\b.{0,20}\b(in|after|next|later)\b", r"\bfollow up (in|after|next|later)\b",
            r"\bnext (quarter|year|month)\b", r"\blater (this|in the) year\b", r"\bin (a few|a couple of|two|three|\d+) (weeks|months)\b",
            r"\bbad timing\b", r"\btoo busy\b", r"\bafter (the )?(summer|holidays|easter|christmas|new year)\b", r"\bask me again\b",
            r"\bget back to me\b", r"\brevisit\b", r"\bin q[1-4]\b", r"\bping me (in|after|next)\b", r"\bnot a priority (right now|now|this)\b",
            r"\bpas (maintenant|pour (le moment|l'instant))\b", r"\bplus tard\b", r"\brecontactez[- ]moi\b", r"\brevenez vers moi\b",
            r"\bl'annee prochaine\b", r"\ble (trimestre|mois) prochain\b", r"\bapres (l'ete|les vacances|paques|noel|la rentree)\b",
            r"\bdans (quelques|deux|trois|\d+) (semaines|mois)\b", r"\bpas le bon moment\b",
            r"\bnicht jetzt\b", r"\b(derzeit|momentan|aktuell) nicht\b", r"\bspater\b", r"\bmelden sie sich (gerne |bitte )?(im|in|nach|wieder)\b",
            r"\bnachstes (jahr|quartal)\b", r"\bnachsten (monat|jahr)\b", r"\bnach (ostern|den ferien|dem sommer|weihnachten)\b",
            r"\bin ein (paar|igen) (wochen|monaten)\b", r"\bin einigen (wochen|monaten)\b",
            r"\bahora no\b", r"\ben este momento no\b", r"\bmas adelante\b", r"\bmas tarde\b", r"\bel (proximo|que viene) (ano|trimestre|mes)\b",
            r"\bel ano que viene\b", r"\bdespues de (verano|semana santa|navidad|las vacaciones)\b", r"\bvuelv(a|e) a (contactarme|escribirme)\b",
            r"\bescribeme (en|despues)\b", r"\bdentro de (unas|unos|\d+) (semanas|meses)\b",
            r"\bnu niet\b", r"\bop dit moment niet\b", r"\bmomenteel niet\b", r"\blater\b", r"\bvolgend (jaar|kwartaal)\b", r"\bvolgende maand\b",
            r"\bna (de zomer|pasen|de vakantie|kerst)\b", r"\bover (een paar|enkele|\d+) (weken|maanden)\b",
            r"\bagora nao\b", r"\bno momento nao\b", r"\bmais (tarde|para frente|adiante)\b", r"\b(no )?proximo (ano|trimestre|mes)\b",
            r"\bdepois (do verao|da pascoa|do natal|das ferias)\b", r"\bme procure (em|depois|no)\b", r"\bvolte a (falar|me procurar)\b",
            r"\bdaqui a (algumas|alguns|\d+) (semanas|meses)\b",
        ),
    ),
    (
        INTERESTED,
        _rules(
            r"\binterested\b", r"\bsounds (good|great|interesting|promising)\b", r"\blet'?s (talk|chat|schedule|set (it )?up|connect|do it|book|meet|find a time)\b",
            r"\bhappy to (chat|talk|meet|hop on|learn|hear)\b", r"\bbook a (call|meeting|time|slot|demo)\b",
            r"\bsend (me |over )?(a |the |your |some )?(calendar|invite|link|more info|info|details|deck|pricing|proposal|case stud)",
            r"\bi'?d love to\b", r"\bi would love to\b", r"\byes,? (please|sure|let'?s|definitely|absolutely)\b", r"\b(i'?m |we'?re )?(free|available) (on|next|tomorrow|this|thursday|friday|monday|tuesday|wednesday)\b",
            r"\bcall me\b", r"\bworks for me\b", r"\bcount me in\b", r"\btell me more\b", r"\bset up a (call|meeting|demo)\b", r"\bcurious to (learn|hear|know)\b",
            r"\binteresse\b", r"\bca m'interesse\b", r"\bavec plaisir\b", r"\bvolontiers\b", r"\bparlons-en\b", r"\benvoyez-moi\b", r"\bdisponible\b",
            r"\bon peut (echanger|en parler|se caler|s'appeler)\b", r"\bpourquoi pas\b", r"\bje suis partant", r"\bdites-m'en plus\b",
            r"\binteressiert\b", r"\bklingt (gut|spannend|interessant)\b", r"\bgerne\b", r"\blassen sie uns\b", r"\bschicken sie mir\b", r"\bhabe zeit\b",
            r"\btermin\b", r"\berzahlen sie mir mehr\b", r"\bwarum nicht\b",
            r"\bme interesa\b", r"\bsuena (bien|interesante)\b", r"\bcon gusto\b", r"\bhablemos\b", r"\benvi(a|e)me\b", r"\bestoy disponible\b",
            r"\bagendemos\b", r"\bcuentame mas\b", r"\bpor que no\b", r"\bme encantaria\b",
            r"\binteresse\b", r"\bklinkt (goed|interessant)\b", r"\bgraag\b", r"\blaten we\b", r"\bstuur me\b", r"\bik heb tijd\b", r"\bafspraak\b",
            r"\bvertel me meer\b", r"\bwaarom niet\b",
            r"\btenho interesse\b", r"\binteressad", r"\bparece (bom|interessante)\b", r"\bcom prazer\b", r"\bvamos conversar\b",
            r"\bme (envie|mande)\b", r"\bestou disponivel\b", r"\bagendar\b", r"\bme conte mais\b", r"\bpor que nao\b", r"\badoraria\b",
        ),
    ),
]  # fmt: skip

QUESTION_RULE = _rules(
    r"\?",
    r"^(what|how|who|which|when|where|why|can you|could you|is it|is this|do you|does it|are you)\b",
    r"^(quoi|comment|combien|pouvez-vous|est-ce que|quel|quelle|qui)\b",
    r"^(was|wie|wer|welche|wann|konnen sie|ist das|gibt es)\b",
    r"^(que|como|cuanto|cuando|puede|pueden|quien|cual)\b",
    r"^(wat|hoe|wie|welke|wanneer|kunt u|kun je|is het)\b",
    r"^(o que|como|quanto|quando|pode|podem|quem|qual)\b",
)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NAME_AFTER = re.compile(
    r"(?:contact|reach out to|speak (?:to|with)|talk (?:to|with)|get in touch with|write to|ping|colleague|coworker|"
    r"contactez|voyez avec|adressez-vous à|collègue|wenden Sie sich (?:bitte )?an|Kollege|Kollegin|hable con|habla con|"
    r"contacte a|compañero|compañera|colega|neem contact op met|collega|spreek met|fale com|falar com|converse com)"
    r"[,:]?\s+((?:[A-ZÀ-Ý][\w'-]+)(?:\s+[A-ZÀ-Ý][\w'-]+)?)",
)
NAME_STOP = {
    "The",
    "Our",
    "My",
    "Mon",
    "Ma",
    "Notre",
    "Mein",
    "Meine",
    "Mi",
    "Mijn",
    "Meu",
    "Minha",
    "He",
    "She",
    "Him",
    "Her",
}


@dataclass(frozen=True)
class Classification:
    kind: str
    until: dt.date | None = None  # not now: when to write again; out of office: the return date
    referral: str = ""  # the name or email of the other person

    @property
    def label(self) -> str:
        return dict(CLASSES)[self.kind]


def classify(text: str, *, today: dt.date | None = None) -> Classification:
    """The class of a reply (and its date or referral). Costs well under a millisecond per message."""
    today = today or dt.date.today()
    folded = fold(text)
    if not folded:
        return Classification(OTHER)
    for kind, rule in RULES:
        if kind == NOT_INTERESTED and (name := referral_in(text, names_only=True)):
            return Classification(REFERRAL, referral=name)  # "talk to Emma Clarke": a person is named
        if rule.search(folded):
            if kind in (NOT_NOW, OUT_OF_OFFICE):
                return Classification(kind, until=date_in(folded, today))
            if kind == REFERRAL:
                return Classification(kind, referral=referral_in(text))
            return Classification(kind)
    if QUESTION_RULE.search(folded):
        return Classification(QUESTION)
    return Classification(OTHER)


def referral_in(text: str, *, names_only: bool = False) -> str:
    if not names_only and (match := EMAIL.search(text)):
        return match.group(0)
    for match in NAME_AFTER.finditer(text):
        name = match.group(1)
        if name.split()[0] not in NAME_STOP:
            return name
    return ""


# --- Dates -----------------------------------------------------------------------------------------

MONTHS = {
    1: ("january", "jan", "janvier", "januar", "janner", "enero", "januari", "janeiro"),
    2: ("february", "feb", "fevrier", "februar", "febrero", "februari", "fevereiro"),
    3: ("march", "mars", "marz", "marzo", "maart", "marco"),
    4: ("april", "avril", "abril"),
    5: ("may", "mai", "mayo", "mei", "maio"),
    6: ("june", "juin", "juni", "junio", "junho"),
    7: ("july", "juillet", "juli", "julio", "julho"),
    8: ("august", "aout", "agosto", "augustus"),
    9: ("september", "sept", "septembre", "septiembre", "setembro"),
    10: ("october", "octobre", "oktober", "octubre", "outubro"),
    11: ("november", "novembre", "noviembre", "novembro"),
    12: ("december", "decembre", "dezember", "diciembre", "dezembro"),
}
MONTH_OF = {name: number for number, names in MONTHS.items() for name in names}
MONTH_WORD = "|".join(sorted(MONTH_OF, key=len, reverse=True))
WEEKDAYS = {
    0: ("monday", "lundi", "montag", "lunes", "maandag", "segunda"),
    1: ("tuesday", "mardi", "dienstag", "martes", "dinsdag", "terca"),
    2: ("wednesday", "mercredi", "mittwoch", "miercoles", "woensdag", "quarta"),
    3: ("thursday", "jeudi", "donnerstag", "jueves", "donderdag", "quinta"),
    4: ("friday", "vendredi", "freitag", "viernes", "vrijdag", "sexta"),
}
WEEKDAY_OF = {name: number for number, names in WEEKDAYS.items() for name in names}
NUMERIC = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b|\b(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\b")
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|e|\.)?(?: de)? ({MONTH_WORD})\b")
MONTH_DAY = re.compile(rf"\b({MONTH_WORD}) (\d{{1,2}})(?:st|nd|rd|th)?\b")
MONTH_ALONE = re.compile(
    rf"\b(?:in|en|im|em|no|na|for|until|till|tot|bis|hasta|ate|jusqu'en|begin|early|debut|anfang|a partir de) ({MONTH_WORD})\b"
)
EASTER = re.compile(r"\b(easter|paques|ostern|semana santa|pasen|pascoa)\b")
SUMMER = re.compile(r"\b(summer|l'ete|sommer|verano|zomer|verao|la rentree)\b")
CHRISTMAS = re.compile(r"\b(christmas|holidays|new year|noel|weihnachten|navidad|kerst|natal|les fetes)\b")
IN_UNITS = re.compile(
    r"\b(?:in|dans|in|dentro de|over|daqui a|en)\s+(a few|a couple of|quelques|ein paar|einigen|unas|unos|een paar|enkele|algumas|alguns|two|three|deux|trois|\d+)\s+"
    r"(weeks?|months?|semaines|mois|wochen|monaten|semanas|meses|weken|maanden)\b"
)
NEXT_UNIT = re.compile(
    r"\b(next (week|month|quarter|year)|la semaine prochaine|le mois prochain|le trimestre prochain|l'annee prochaine|"
    r"nachste woche|nachsten monat|nachstes quartal|nachstes jahr|la (proxima|proxima) semana|el (proximo|que viene) (mes|trimestre|ano)|"
    r"el ano que viene|volgende week|volgende maand|volgend kwartaal|volgend jaar|(na )?proxima semana|(no )?proximo (mes|trimestre|ano))\b"
)
WEEKDAY_WORD = re.compile(r"\b(" + "|".join(WEEKDAY_OF) + r")\b")
COUNT = {"a few": 3, "a couple of": 2, "quelques": 3, "ein paar": 3, "einigen": 3, "unas": 3, "unos": 3, "een paar": 3,
         "enkele": 3, "algumas": 3, "alguns": 3, "two": 2, "three": 3, "deux": 2, "trois": 3}  # fmt: skip


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _future(month: int, day: int, today: dt.date) -> dt.date | None:
    """The next such day from today (this year, or next year when it has passed)."""
    candidate = _valid(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _valid(today.year + 1, month, day)
    return candidate


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def date_in(folded: str, today: dt.date) -> dt.date | None:
    """The date a reply names (a return date, or when to write again), or None. Day-first for numbers."""
    if match := NUMERIC.search(folded):
        if match.group(1):
            found = _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        else:
            day, month, year = int(match.group(4)), int(match.group(5)), match.group(6)
            if year:
                year = int(year) + (2000 if len(year) == 2 else 0)
                found = _valid(year, month, day)
            else:
                found = _future(month, day, today)
        if found:
            return found
    if (match := DAY_MONTH.search(folded)) and (found := _future(MONTH_OF[match.group(2)], int(match.group(1)), today)):
        return found
    if (match := MONTH_DAY.search(folded)) and (found := _future(MONTH_OF[match.group(1)], int(match.group(2)), today)):
        return found
    if match := MONTH_ALONE.search(folded):
        return _future(MONTH_OF[match.group(1)], 1, today)
    if EASTER.search(folded):
        sunday = easter(today.year)
        if sunday + dt.timedelta(days=1) < today:
            sunday = easter(today.year + 1)
        return sunday + dt.timedelta(days=2)  # the Tuesday after Easter Monday
    if SUMMER.search(folded):
        return _future(9, 1, today)
    if CHRISTMAS.search(folded):
        return _future(1, 6, today) if today.month != 1 or today.day >= 6 else dt.date(today.year, 1, 6)
    if match := IN_UNITS.search(folded):
        raw, unit = match.group(1), match.group(2)
        count = int(raw) if raw.isdigit() else COUNT.get(raw, 2)
        if unit.startswith(("week", "semaine", "woche", "semana", "weken")):
            return today + dt.timedelta(weeks=count)
        return _add_months(today, count)
    if match := NEXT_UNIT.search(folded):
        text = match.group(0)
        if any(w in text for w in ("week", "semaine", "woche", "semana")):
            return today + dt.timedelta(days=7 - today.weekday())
        if any(w in text for w in ("quarter", "trimestre", "quartal", "kwartaal")):
            first = ((today.month - 1) // 3 + 1) * 3 + 1
            return dt.date(today.year + (first > 12), (first - 1) % 12 + 1, 1)
        if any(w in text for w in ("year", "annee", "jahr", "ano", "jaar")):
            return dt.date(today.year + 1, 1, 1)
        return _add_months(today.replace(day=1), 1)
    if match := WEEKDAY_WORD.search(folded):
        ahead = (WEEKDAY_OF[match.group(1)] - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)
    return None
