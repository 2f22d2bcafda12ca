from services.rectification.findings.schemas import SiteRef


def test_sites_with_credit_codes_are_accepted():
    # Two-new organisations and institutions are coded by unified social credit codes, with capitals.
    site = SiteRef(
        code="12330206I06",
        name="北仑图书馆",
        type="institution",
        org_unit="ningbo/beilun/12330206I06",
        district="beilun",
    )
    assert site.org_unit.endswith("12330206I06")
