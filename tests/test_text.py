from __future__ import annotations

import pytest

from pharma_service.text import fold, substance_key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("CHLORHYDRATE DE METFORMINE", "metformine"),
        ("OXYCODONE (CHLORHYDRATE D')", "oxycodone"),
        ("CÉTIRIZINE (DICHLORHYDRATE DE)", "cetirizine"),
        ("DEXAMÉTHASONE (PHOSPHATE SODIQUE DE)", "dexamethasone"),
        ("NAFTIDROFURYL (OXALATE ACIDE DE)", "naftidrofuryl"),
        ("ATORVASTATINE CALCIQUE TRIHYDRATÉE", "atorvastatine"),
        ("CÉFALEXINE MONOHYDRATÉE", "cefalexine"),
        ("DANTROLÈNE SODIQUE HÉMIHEPTAHYDRATÉ", "dantrolene"),
        ("PÉRINDOPRIL TERT-BUTYLAMINE", "perindopril"),
        ("olmesartan medoxomil", "olmesartan"),
        ("HYDROGÉNOSUCCINATE DE DOXYLAMINE", "doxylamine"),
        ("CLAVULANIQUE (ACIDE)", "acide clavulanique"),
        ("acide acétylsalicylique", "acide acetylsalicylique"),
        # the ion or the counter-ion is the drug: nothing to strip
        ("SULFATE DE MAGNÉSIUM", "sulfate de magnesium"),
        ("MAGNÉSIUM (HYDROXYDE DE)", "hydroxyde de magnesium"),
        ("SULFATE DE ZINC HEPTAHYDRATÉ", "sulfate de zinc"),
        ("CHLORURE DE SODIUM", "chlorure de sodium"),
        ("BENZOATE DE MÉGLUMINE", "benzoate de meglumine"),
        ("CITRATE DIPOTASSIQUE ANHYDRE", "citrate dipotassique"),
        ("DIMÉTHYLE (FUMARATE DE)", "fumarate de dimethyle"),
    ],
)
def test_substance_key_strips_salts_but_keeps_the_moiety(name: str, key: str) -> None:
    assert substance_key(name) == key


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert fold("  Lévothyroxine-SODIQUE (75µg) ") == fold("levothyroxine sodique 75 g")
    assert fold("Œstradiol") == "oestradiol"
