import pytest

from leads.linkedin import InvalidLinkedInIdentifier, normalize_linkedin

ACO = "ACoAAB1a2b3c4d5e6f7g8h9"
ACW = "ACwAAAB1a2b3c4d5e6f7g8h"

VALID = [
    ("https://www.linkedin.com/in/john-doe/", "john-doe", ""),
    ("https://www.linkedin.com/in/john-doe", "john-doe", ""),
    ("http://www.linkedin.com/in/john-doe/", "john-doe", ""),
    ("https://linkedin.com/in/john-doe/", "john-doe", ""),
    ("www.linkedin.com/in/john-doe", "john-doe", ""),
    ("linkedin.com/in/john-doe/", "john-doe", ""),
    ("https://uk.linkedin.com/in/john-doe", "john-doe", ""),
    ("https://fr.linkedin.com/in/jean-dupont-1a2b3c/", "jean-dupont-1a2b3c", ""),
    ("https://m.linkedin.com/in/john-doe", "john-doe", ""),
    ("https://www.linkedin.com/in/john-doe?trk=public_profile", "john-doe", ""),
    ("https://www.linkedin.com/in/john-doe/?originalSubdomain=uk", "john-doe", ""),
    ("https://www.linkedin.com/in/john-doe#experience", "john-doe", ""),
    ("https://www.linkedin.com/in/john-doe/details/experience/", "john-doe", ""),
    ("https://www.linkedin.com/in/john-doe/recent-activity/all/", "john-doe", ""),
    ("https://www.linkedin.com/in/John-Doe/", "john-doe", ""),
    ("https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller-42/", "jürgen-müller-42", ""),
    ("https://www.linkedin.com/in/%E7%8E%8B%E5%B0%8F%E6%98%8E", "王小明", ""),
    ("  https://www.linkedin.com/in/john-doe/  ", "john-doe", ""),
    ("HTTPS://WWW.LINKEDIN.COM/in/john-doe", "john-doe", ""),
    ("john-doe", "john-doe", ""),
    ("john_doe.42", "john_doe.42", ""),
    (ACO, "", ACO),
    (f"https://www.linkedin.com/in/{ACO}/", "", ACO),
    (f"https://www.linkedin.com/sales/lead/{ACW},NAME_SEARCH,x1Yz", "", ACW),
    (f"https://www.linkedin.com/sales/people/{ACW},name,abc", "", ACW),
    (f"linkedin.com/sales/lead/{ACW}", "", ACW),
]

INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("https://www.linkedin.com/company/acme/", "/company/"),
    ("https://www.linkedin.com/school/mit/", "/school/"),
    ("https://www.linkedin.com/feed/", "/feed/"),
    ("https://www.linkedin.com/", "without a profile"),
    ("https://www.linkedin.com/in/", "without a profile identifier"),
    ("https://example.com/in/john-doe", "not a linkedin.com"),
    ("https://linkedin.com.evil.com/in/john-doe", "not a linkedin.com"),
    ("ftp://www.linkedin.com/in/john-doe", "not a web address"),
    ("javascript:alert(1)", "not a web address"),
    ("john doe", "spaces"),
    ("@john", "not a LinkedIn profile identifier"),
    ("https://www.linkedin.com/pub/john-doe/1/2/3", "/pub/"),
    ("https://www.linkedin.com/sales/lead/notanid,NAME", "without a member id"),
    ("https://www.linkedin.com/posts/john_activity-123", "/posts/"),
    ("ab", "not a LinkedIn profile identifier"),
    ("x" * 101, "not a LinkedIn profile identifier"),
]


@pytest.mark.parametrize(("raw", "public_identifier", "provider_id"), VALID)
def test_valid(raw, public_identifier, provider_id):
    result = normalize_linkedin(raw)
    assert (result.public_identifier, result.provider_id) == (public_identifier, provider_id)


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_invalid_with_reason(raw, reason):
    with pytest.raises(InvalidLinkedInIdentifier) as exc:
        normalize_linkedin(raw)
    assert reason in str(exc.value)


def test_table_is_large_enough():
    assert len(VALID) + len(INVALID) >= 25
