"""The sample domains: each kind belongs to one, and `--domain` picks them by name."""

from __future__ import annotations

import pytest
from c360.errors import ConfigError
from c360.samples.domains import ALL, BANKING, DOMAINS, STREAMING, select_domains
from c360.samples.load import SOURCE_KINDS


def test_the_domains_share_out_the_reference_sources():
    kinds = [kind for domain in DOMAINS for kind in domain.kinds]
    assert sorted(kinds) == sorted(SOURCE_KINDS)
    assert STREAMING.kinds == ("profiles_db", "streaming_db", "support_db")
    assert BANKING.kinds == ("core_banking_db", "kyc_db", "payments_db")


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_story_and_generator_fill_exactly_the_domains_kinds(domain):
    assert tuple(domain.story()) == domain.kinds
    assert tuple(domain.generated(0.01, 1)) == domain.kinds


def test_a_domain_is_chosen_by_name_or_all():
    assert select_domains("banking") == (BANKING,)
    assert select_domains("streaming") == (STREAMING,)
    assert select_domains(ALL) == DOMAINS
    names = [domain.name for domain in DOMAINS]
    assert len(set(names)) == len(names)
    assert ALL not in names


def test_an_unknown_domain_names_the_choices():
    with pytest.raises(ConfigError, match="choose one of streaming, banking or all"):
        select_domains("insurance")


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_a_bad_scale_factor_is_refused_before_any_row(domain):
    with pytest.raises(ConfigError, match="--scale-factor must be positive"):
        domain.generated(0, 1)
