"""Build ``drug_catalogue.csv``: the curated drugs of the synthetic cohort, with real codes.

Run once, when the curated list below or the referential changes::

    python datasets/cohort/build_catalogue.py [--check-normaliser]

For each curated drug the script picks, in ``datasets/referential``, a few marketed
(``Commercialisée``), non-homeopathic, oral specialties whose active substances are
exactly the drug's substances (one substance unless the drug is a combination),
preferring the name patterns given below in their order, then takes their active
presentations (CIP13). The ATC code is the substance's own code from
``substances.csv`` (single-substance drugs only, and only when no other substance
shares the code, so that an ATC row always names one substance). The label is the
first chosen specialty's name before its first comma ("KARDEGIC 75 mg").

Checks (the build fails when one does not hold): every pattern finds a specialty,
every CIP13 is in ``presentations.csv``, labels and ATC codes are unique across the
catalogue, and the unknown labels the generator uses are not substance or brand names.
``--check-normaliser`` also runs every label through the project's normaliser
(``pharma_service``) and checks that it resolves to the drug's substances and that
the unknown labels stay unresolved.

The weights are an engineer's judgment of French prescribing to patients aged 65 and
over, not measured statistics (see README.md).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
REFERENTIAL = HERE.parent / "referential"
CATALOGUE = HERE / "drug_catalogue.csv"

MAX_SPECIALTIES = 3
MAX_CIP_PER_SPECIALTY = 2

# Labels of drugs that exist nowhere: the generator's list, checked here against the referential.
sys.path.insert(0, str(HERE))
from generate_cohort import UNKNOWN_LABELS  # noqa: E402


@dataclass(frozen=True)
class Drug:
    drug_id: str
    substances: tuple[str, ...]
    patterns: tuple[str, ...]  # regexes on the specialty name, most preferred first
    weight: float
    chronic: bool
    classes: tuple[str, ...] = ()  # two drugs sharing a class are a (mostly avoided) duplicate
    sex: str = ""  # "M" or "F" when the drug is for one sex only
    regimen: str = ""


def C(
    drug_id: str,
    substances: str,
    patterns: str,
    weight: float,
    classes: str = "",
    regimen: str = "",
    sex: str = "",
) -> Drug:
    return Drug(
        drug_id,
        tuple(substances.split("+")),
        tuple(patterns.split("|")),
        weight,
        True,
        tuple(c for c in classes.split("+") if c),
        sex,
        regimen,
    )


def A(
    drug_id: str, substances: str, patterns: str, weight: float, classes: str = "", regimen: str = ""
) -> Drug:
    return Drug(
        drug_id,
        tuple(substances.split("+")),
        tuple(patterns.split("|")),
        weight,
        False,
        tuple(c for c in classes.split("+") if c),
        "",
        regimen,
    )


# Chronic weights: relative frequency of long-term use among French patients aged 65+ (judgment;
# in the generated cohort, with ~7 chronic drugs per patient, a drug's share of patients comes out
# at roughly twice its weight, in %).
# Acute weights: relative frequency of one acute course among the acute drugs.
# Patterns are anchored at the start of the specialty name.
# fmt: off
DRUGS: tuple[Drug, ...] = (
    # --- analgesics
    C("paracetamol", "paracetamol", "DOLIPRANE 1000 mg|DAFALGAN 1 g|DOLIPRANE 500 mg, gélule", 25,
      "paracetamol", "1 g 3 fois par jour si douleur"),
    # --- cardiovascular
    C("amlodipine", "amlodipine", "AMLOR 5 mg|AMLODIPINE BIOGARAN 5 mg|AMLODIPINE ARROW 10 mg", 11, "ccb_dhp",
      "5 à 10 mg/j"),
    C("lercanidipine", "lercanidipine", "ZANIDIP 10 mg|LERCANIDIPINE .*10 mg", 3, "ccb_dhp", "10 à 20 mg/j"),
    C("nicardipine", "nicardipine", "LOXEN", 0.4, "ccb_dhp", "20 mg 3 fois par jour"),
    C("diltiazem", "diltiazem", "TILDIEM 60 mg|DILTIAZEM", 1.5, "ccb_nondhp", "60 mg 3 fois par jour"),
    C("verapamil", "verapamil", "ISOPTINE", 0.7, "ccb_nondhp", "240 mg/j LP"),
    C("atorvastatine", "atorvastatine", "TAHOR 20 mg|TAHOR 10 mg|ATORVASTATINE BIOGARAN 40 mg", 12, "statin",
      "10 à 40 mg le soir"),
    C("rosuvastatine", "rosuvastatine", "CRESTOR 5 mg|CRESTOR 10 mg|ROSUVASTATINE .*20 mg", 8, "statin",
      "5 à 20 mg/j"),
    C("simvastatine", "simvastatine", "ZOCOR 20 mg|SIMVASTATINE .*20 mg", 4, "statin", "20 mg le soir"),
    C("pravastatine", "pravastatine", "ELISOR 20 mg|PRAVASTATINE .*20 mg", 3, "statin", "20 à 40 mg le soir"),
    C("ezetimibe", "ezetimibe", "EZETROL|EZETIMIBE", 3, "ezetimibe", "10 mg/j"),
    C("aspirine_75", "acide acetylsalicylique", "KARDEGIC 75 mg", 12, "aspirin", "75 mg/j"),
    C("clopidogrel", "clopidogrel", "PLAVIX 75 mg|CLOPIDOGREL .*75 mg", 5, "p2y12", "75 mg/j"),
    C("apixaban", "apixaban", "ELIQUIS 2,5 mg|ELIQUIS 5 mg", 6, "anticoag", "5 mg 2 fois par jour"),
    C("rivaroxaban", "rivaroxaban", "XARELTO 20 mg|XARELTO 15 mg", 4, "anticoag", "15 à 20 mg/j"),
    C("dabigatran", "dabigatran", "PRADAXA 110 mg, gélule|PRADAXA 150 mg, gélule", 0.8, "anticoag",
      "110 mg 2 fois par jour"),
    C("fluindione", "fluindione", "PREVISCAN", 1, "anticoag", "selon INR"),
    C("warfarine", "warfarine", "COUMADINE", 1, "anticoag", "selon INR"),
    C("furosemide", "furosemide", "LASILIX 40 mg|FUROSEMIDE .*40 mg", 6, "loop", "20 à 80 mg/j"),
    C("bumetanide", "bumetanide", "BURINEX 1 mg", 0.5, "loop", "1 mg/j"),
    C("spironolactone", "spironolactone", "ALDACTONE 25 mg|SPIRONOLACTONE .*25 mg", 3, "mra", "25 mg/j"),
    C("hydrochlorothiazide", "hydrochlorothiazide", "ESIDREX", 1, "thiazide", "12,5 à 25 mg/j"),
    C("indapamide", "indapamide", "FLUDEX|INDAPAMIDE", 3, "thiazide", "1,5 mg LP/j"),
    C("ramipril", "ramipril", "TRIATEC 5 mg|TRIATEC 2,5 mg|RAMIPRIL .*10 mg", 7, "acei", "2,5 à 10 mg/j"),
    C("perindopril", "perindopril", "COVERSYL 5 mg|COVERSYL 10 mg|PERINDOPRIL .*5 mg", 5, "acei",
      "5 à 10 mg/j"),
    C("enalapril", "enalapril", "RENITEC 20 mg|ENALAPRIL", 1.5, "acei", "20 mg/j"),
    C("candesartan", "candesartan", "ATACAND 8 mg|KENZEN 8 mg|CANDESARTAN .*16 mg", 3, "arb", "8 à 16 mg/j"),
    C("irbesartan", "irbesartan", "APROVEL 150 mg|APROVEL 300 mg|IRBESARTAN .*150 mg", 3, "arb",
      "150 à 300 mg/j"),
    C("valsartan", "valsartan", "TAREG 80 mg|TAREG 160 mg|NISIS 80 mg|VALSARTAN .*80 mg", 3, "arb",
      "80 à 160 mg/j"),
    C("losartan", "losartan", "COZAAR 50 mg|LOSARTAN .*50 mg", 2, "arb", "50 mg/j"),
    C("olmesartan", "olmesartan", "OLMETEC 20 mg|ALTEIS 20 mg|OLMESARTAN", 1, "arb", "20 mg/j"),
    C("telmisartan", "telmisartan", "MICARDIS 40 mg|PRITOR 40 mg|TELMISARTAN", 1, "arb", "40 mg/j"),
    C("irbesartan_hctz", "irbesartan+hydrochlorothiazide", "COAPROVEL", 2, "arb+thiazide", "1 cp/j"),
    C("valsartan_hctz", "valsartan+hydrochlorothiazide", "COTAREG|NISISCO", 1.5, "arb+thiazide", "1 cp/j"),
    C("perindopril_indapamide", "perindopril+indapamide", "BIPRETERAX|PRETERAX", 2, "acei+thiazide",
      "1 cp/j"),
    C("perindopril_amlodipine", "perindopril+amlodipine", "COVERAM", 1, "acei+ccb_dhp", "1 cp/j"),
    C("bisoprolol", "bisoprolol", "CARDENSIEL 2,5 mg|DETENSIEL 10 mg|BISOPROLOL .*5 mg", 9, "bb",
      "1,25 à 10 mg/j"),
    C("nebivolol", "nebivolol", "TEMERIT|NEBIVOLOL", 4, "bb", "5 mg/j"),
    C("metoprolol", "metoprolol", "SELOKEN|LOPRESSOR|METOPROLOL", 2, "bb", "100 à 200 mg/j"),
    C("atenolol", "atenolol", "TENORMINE|ATENOLOL", 2, "bb", "50 à 100 mg/j"),
    C("amiodarone", "amiodarone", "CORDARONE 200 mg|AMIODARONE .*200 mg", 2, "antiarrhythmic",
      "200 mg/j 5 jours sur 7"),
    C("digoxine", "digoxine", "HEMIGOXINE|DIGOXINE", 1, "digoxin", "0,125 à 0,25 mg/j"),
    C("ivabradine", "ivabradine", "PROCORALAN", 0.5, "ivabradine", "5 mg 2 fois par jour"),
    C("molsidomine", "molsidomine", "CORVASAL", 0.8, "nitrate", "2 mg 3 fois par jour"),
    C("nicorandil", "nicorandil", "NICORANDIL .*10 mg|IKOREL", 1, "nicorandil", "10 mg 2 fois par jour"),
    C("trimetazidine", "trimetazidine", "VASTAREL", 0.5, "trimetazidine", "35 mg LP 2 fois par jour"),
    C("chlorure_potassium", "chlorure de potassium", "DIFFU-K|KALEORID", 2, "potassium", "1 à 2 gél/j"),
    C("diosmine", "diosmine", "DAFLON 500 mg", 1, "phlebotonic", "2 cp/j"),
    # --- digestive
    C("omeprazole", "omeprazole", "MOPRAL 20 mg|OMEPRAZOLE .*20 mg", 10, "ppi", "20 mg/j"),
    C("esomeprazole", "esomeprazole", "INEXIUM 20 mg|INEXIUM 40 mg|ESOMEPRAZOLE .*20 mg", 8, "ppi",
      "20 à 40 mg/j"),
    C("pantoprazole", "pantoprazole", "EUPANTOL 40 mg|INIPOMP 20 mg|PANTOPRAZOLE .*40 mg", 7, "ppi",
      "20 à 40 mg/j"),
    C("lansoprazole", "lansoprazole", "LANZOR 30 mg|OGAST 15 mg|LANSOPRAZOLE .*15 mg", 3, "ppi",
      "15 à 30 mg/j"),
    C("macrogol", "macrogol 4000", "FORLAX 10 g|FORLAX|MACROGOL 4000", 5, "laxative", "1 à 2 sachets/j"),
    C("lactulose", "lactulose", "DUPHALAC|LACTULOSE", 1.5, "laxative", "1 sachet/j"),
    # --- endocrine, metabolism
    C("levothyroxine", "levothyroxine", "LEVOTHYROX 50|LEVOTHYROX 75|LEVOTHYROX 100", 8, "thyroid",
      "50 à 100 µg/j"),
    C("metformine", "metformine", "GLUCOPHAGE 1000 mg|STAGID|METFORMINE .*850 mg", 7, "biguanide",
      "850 mg à 1 g 2 fois par jour"),
    C("gliclazide", "gliclazide", "DIAMICRON 60 mg|GLICLAZIDE .*30 mg", 3, "secretagogue",
      "30 à 120 mg LP/j"),
    C("repaglinide", "repaglinide", "NOVONORM|REPAGLINIDE", 1, "secretagogue", "0,5 à 2 mg avant les repas"),
    C("sitagliptine", "sitagliptine", "JANUVIA 100 mg|XELEVIA 100 mg|SITAGLIPTINE .*100 mg", 2, "dpp4",
      "100 mg/j (50 mg si IR)"),
    C("dapagliflozine", "dapagliflozine", "FORXIGA 10 mg", 3, "sglt2", "10 mg/j"),
    C("empagliflozine", "empagliflozine", "JARDIANCE 10 mg", 2, "sglt2", "10 mg/j"),
    C("allopurinol", "allopurinol", "ZYLORIC 100 mg|ZYLORIC 300 mg|ALLOPURINOL", 5, "urate",
      "100 à 300 mg/j"),
    C("febuxostat", "febuxostat", "ADENURIC", 0.8, "urate", "80 mg/j"),
    C("cholecalciferol", "cholecalciferol", "ZYMAD 80 000 UI|UVEDOSE 100 000 UI|ZYMAD 10 000 UI/ml", 12,
      "vitd",
      "1 ampoule par mois ou par trimestre"),
    C("calcium_vitd", "calcium element+cholecalciferol",
      "OROCAL VITAMINE D3 500 mg/400 U.I.|IDEOS|CACIT VITAMINE D3 1000 mg/880 UI",
      6, "vitd", "1 à 2 cp/j"),
    C("alendronate", "acide alendronique", "FOSAMAX 70 mg|ACIDE ALENDRONIQUE .*70 mg", 1, "bisphosphonate",
      "70 mg une fois par semaine"),
    C("risedronate", "risedronate", "ACTONEL 35 mg|RISEDRONATE .*35 mg", 0.5, "bisphosphonate",
      "35 mg une fois par semaine"),
    C("fer", "fer", "TARDYFERON 80 mg|TARDYFERON 50 mg", 2, "iron", "80 mg/j"),
    C("acide_folique", "acide folique", "SPECIAFOLDINE 5 mg|SPECIAFOLDINE", 1.5, "folate", "5 mg/j"),
    C("prednisone", "prednisone", "CORTANCYL 5 mg|CORTANCYL", 2, "corticoid", "5 mg/j"),
    C("methotrexate", "methotrexate", "NOVATREX|IMETH", 0.4, "methotrexate",
      "10 à 15 mg une fois par semaine"),
    C("hydroxychloroquine", "hydroxychloroquine", "PLAQUENIL", 0.3, "hcq", "200 à 400 mg/j"),
    # --- urology (men)
    C("tamsulosine", "tamsulosine", "OMIX|JOSIR|MECIR|TAMSULOSINE", 5, "alpha_blocker", "0,4 mg LP/j",
      sex="M"),
    C("alfuzosine", "alfuzosine", "XATRAL|ALFUZOSINE", 2, "alpha_blocker", "10 mg LP/j", sex="M"),
    C("silodosine", "silodosine", "UROREC|SILODYX", 1, "alpha_blocker", "8 mg/j", sex="M"),
    C("finasteride", "finasteride", "CHIBRO-PROSCAR|FINASTERIDE .*5 mg", 1, "5ari", "5 mg/j", sex="M"),
    C("dutasteride", "dutasteride", "AVODART|DUTASTERIDE", 1, "5ari", "0,5 mg/j", sex="M"),
    C("oxybutynine", "oxybutynine", "DITROPAN|DRIPTANE|OXYBUTYNINE", 0.8, "bladder_antimuscarinic",
      "5 mg 2 à 3 fois par jour"),
    C("solifenacine", "solifenacine", "VESICARE 5 mg|SOLIFENACINE", 0.8, "bladder_antimuscarinic", "5 mg/j"),
    C("trospium", "chlorure de trospium", "CERIS", 0.3, "bladder_antimuscarinic", "20 mg 2 fois par jour"),
    # --- nervous system
    C("zopiclone", "zopiclone", "IMOVANE|ZOPICLONE", 5, "z_hypnotic", "3,75 à 7,5 mg au coucher"),
    C("zolpidem", "zolpidem", "STILNOX|ZOLPIDEM", 4, "z_hypnotic", "5 à 10 mg au coucher"),
    C("alprazolam", "alprazolam", "XANAX 0,25 mg|XANAX 0,50 mg|ALPRAZOLAM", 5, "benzodiazepine",
      "0,25 mg 2 à 3 fois par jour"),
    C("oxazepam", "oxazepam", "SERESTA 10 mg|SERESTA", 3, "benzodiazepine", "10 mg 1 à 3 fois par jour"),
    C("bromazepam", "bromazepam", "LEXOMIL|BROMAZEPAM", 3, "benzodiazepine", "1,5 à 3 mg/j"),
    C("lorazepam", "lorazepam", "TEMESTA 1 mg|LORAZEPAM", 2, "benzodiazepine", "1 mg/j"),
    C("prazepam", "prazepam", "LYSANXIA 10 mg|LYSANXIA", 1, "benzodiazepine", "10 mg/j"),
    C("hydroxyzine", "hydroxyzine", "ATARAX 25 mg|HYDROXYZINE", 3, "hydroxyzine", "25 mg au coucher"),
    C("escitalopram", "escitalopram", "SEROPLEX 10 mg|SEROPLEX 5 mg|ESCITALOPRAM .*10 mg", 4,
      "antidepressant",
      "5 à 10 mg/j"),
    C("sertraline", "sertraline", "ZOLOFT 50 mg|SERTRALINE .*50 mg", 3, "antidepressant", "50 mg/j"),
    C("paroxetine", "paroxetine", "DEROXAT 20 mg|DEROXAT|PAROXETINE .*20 mg", 2, "antidepressant", "20 mg/j"),
    C("citalopram", "citalopram", "SEROPRAM 20 mg|CITALOPRAM .*20 mg", 1, "antidepressant", "10 à 20 mg/j"),
    C("fluoxetine", "fluoxetine", "PROZAC 20 mg|FLUOXETINE .*20 mg", 1, "antidepressant", "20 mg/j"),
    C("venlafaxine", "venlafaxine", "EFFEXOR 37,5 mg|EFFEXOR 75 mg|VENLAFAXINE .*75 mg", 2, "antidepressant",
      "75 mg LP/j"),
    C("duloxetine", "duloxetine", "CYMBALTA 30 mg|CYMBALTA 60 mg|DULOXETINE .*30 mg", 1, "antidepressant",
      "30 à 60 mg/j"),
    C("mirtazapine", "mirtazapine", "NORSET 15 mg|MIRTAZAPINE .*15 mg", 2, "mirtazapine", "15 mg au coucher"),
    C("amitriptyline", "amitriptyline", "LAROXYL 25 mg|LAROXYL", 1, "tricyclic", "10 à 25 mg au coucher"),
    C("quetiapine", "quetiapine", "XEROQUEL LP 50 mg|XEROQUEL|QUETIAPINE", 1, "antipsychotic",
      "25 à 100 mg au coucher"),
    C("risperidone", "risperidone", "RISPERDAL 1 mg|RISPERDAL|RISPERIDONE", 1, "antipsychotic",
      "0,5 à 1 mg/j"),
    C("haloperidol", "haloperidol", "HALDOL 2 mg/ml|HALDOL 1 mg", 0.4, "antipsychotic", "0,5 à 1 mg/j"),
    C("olanzapine", "olanzapine", "ZYPREXA 5 mg|ZYPREXA|OLANZAPINE", 0.5, "antipsychotic", "5 mg/j"),
    C("tiapride", "tiapride", "TIAPRIDAL", 0.8, "antipsychotic", "100 mg/j"),
    C("cyamemazine", "cyamemazine", "TERCIAN 25 mg", 1, "antipsychotic", "25 mg au coucher"),
    C("donepezil", "donepezil", "ARICEPT 5 mg|ARICEPT 10 mg|DONEPEZIL .*10 mg", 0.6,
      "cholinesterase_inhibitor",
      "5 à 10 mg au coucher"),
    C("galantamine", "galantamine", "REMINYL|GALANTAMINE", 0.2, "cholinesterase_inhibitor", "8 à 16 mg LP/j"),
    C("memantine", "memantine", "EBIXA 10 mg|EBIXA 20 mg|MEMANTINE .*20 mg", 0.6, "memantine",
      "10 à 20 mg/j"),
    C("levodopa_benserazide", "levodopa+benserazide", "MODOPAR 125 (|MODOPAR 62,5|MODOPAR L.P.", 1.5,
      "levodopa",
      "62,5 à 125 mg 3 fois par jour"),
    C("levodopa_carbidopa", "levodopa+carbidopa", "SINEMET 100 mg|SINEMET 250 mg|SINEMET LP", 0.7, "levodopa",
      "100 mg 3 fois par jour"),
    C("ropinirole", "ropinirole", "REQUIP|ADARTREL|ROPINIROLE", 0.5, "dopamine_agonist", "0,25 à 2 mg/j"),
    C("pramipexole", "pramipexole", "SIFROL 0,18 mg|SIFROL 0,7 mg|PRAMIPEXOLE", 0.5, "dopamine_agonist",
      "0,18 à 0,7 mg/j"),
    C("gabapentine", "gabapentine", "NEURONTIN 300 mg|NEURONTIN|GABAPENTINE", 1.5, "gabapentinoid",
      "300 mg 3 fois par jour"),
    C("pregabaline", "pregabaline", "LYRICA 75 mg|LYRICA|PREGABALINE .*75 mg", 2.5, "gabapentinoid",
      "75 mg 2 fois par jour"),
    C("levetiracetam", "levetiracetam", "KEPPRA 500 mg|KEPPRA|LEVETIRACETAM .*500 mg", 0.8, "levetiracetam",
      "500 mg 2 fois par jour"),
    C("valproate", "valproate de sodium", "DEPAKINE 500 mg", 0.4, "valproate", "500 mg 2 fois par jour"),
    C("morphine", "morphine", "SKENAN L.P. 10 mg|SKENAN L.P. 30 mg|ACTISKENAN 5 mg", 0.5, "strong_opioid",
      "10 à 30 mg LP 2 fois par jour"),
    C("oxycodone", "oxycodone", "OXYCONTIN LP 10 mg|OXYCONTIN LP 20 mg|OXYNORM 5 mg", 0.8, "strong_opioid",
      "10 mg LP 2 fois par jour"),
    C("betahistine", "betahistine", "SERC 8 mg|BETAHISTINE", 1, "betahistine", "8 à 16 mg 3 fois par jour"),
    # --- acute: antibiotics
    A("amoxicilline", "amoxicilline", "CLAMOXYL 1 g|AMOXICILLINE .*1 g, comprimé", 5, "antibiotic",
      "1 g 3 fois par jour, 7 jours"),
    A("amoxicilline_clavulanate", "amoxicilline+acide clavulanique",
      "AUGMENTIN 1 g/125 mg|AUGMENTIN 500 mg", 5,
      "antibiotic", "1 g 3 fois par jour, 7 jours"),
    A("clarithromycine", "clarithromycine", "ZECLAR 500 mg|ZECLAR 250 mg|CLARITHROMYCINE .*500 mg", 1,
      "antibiotic",
      "500 mg 2 fois par jour, 7 jours"),
    A("azithromycine", "azithromycine", "ZITHROMAX 250 mg|AZITHROMYCINE .*250 mg", 2, "antibiotic",
      "500 mg puis 250 mg/j, 5 jours"),
    A("pristinamycine", "pristinamycine", "PYOSTACINE 500 mg", 1, "antibiotic",
      "1 g 3 fois par jour, 7 jours"),
    A("ciprofloxacine", "ciprofloxacine", "CIFLOX 500 mg, comprimé|CIPROFLOXACINE .*500 mg", 0.8,
      "antibiotic",
      "500 mg 2 fois par jour, 7 jours"),
    A("ofloxacine", "ofloxacine", "OFLOCET 200 mg|OFLOXACINE .*200 mg", 0.8, "antibiotic",
      "200 mg 2 fois par jour, 7 jours"),
    A("levofloxacine", "levofloxacine", "TAVANIC 500 mg|LEVOFLOXACINE .*500 mg", 0.8, "antibiotic",
      "500 mg/j, 7 jours"),
    A("cefpodoxime", "cefpodoxime", "ORELOX 100 mg|CEFPODOXIME .*100 mg", 1.2, "antibiotic",
      "200 mg 2 fois par jour, 5 jours"),
    A("sulfamethoxazole_trimethoprime", "sulfamethoxazole+trimethoprime", "BACTRIM FORTE|BACTRIM, comprimé",
      0.8,
      "antibiotic", "1 cp forte 2 fois par jour, 5 jours"),
    A("nitrofurantoine", "nitrofurantoine", "FURADANTINE|MICRODOINE", 0.6, "antibiotic",
      "100 mg 3 fois par jour, 7 jours"),
    A("fosfomycine", "fosfomycine", "MONURIL|URIDOZ|FOSFOMYCINE", 1.5, "antibiotic", "3 g dose unique"),
    A("pivmecillinam", "pivmecillinam", "SELEXID", 0.8, "antibiotic", "400 mg 2 fois par jour, 5 jours"),
    # --- acute: analgesics, anti-inflammatories, symptomatic
    A("tramadol", "tramadol", "TOPALGIC 50 mg|CONTRAMAL 50 mg|TRAMADOL .*50 mg, gélule", 3, "weak_opioid",
      "50 mg 3 fois par jour, 5 jours"),
    A("codeine_paracetamol", "paracetamol+codeine", "DAFALGAN CODEINE|CODOLIPRANE 500 mg/30 mg", 3,
      "weak_opioid",
      "1 à 2 cp 3 fois par jour, 5 jours"),
    A("tramadol_paracetamol", "paracetamol+tramadol", "IXPRIM|ZALDIAR", 2, "weak_opioid",
      "1 à 2 cp 3 fois par jour, 5 jours"),
    A("ibuprofene", "ibuprofene", "ADVIL 400 mg|NUROFEN 400 mg|IBUPROFENE .*400 mg", 2.5, "nsaid",
      "400 mg 3 fois par jour, 5 jours"),
    A("ketoprofene", "ketoprofene", "BI-PROFENID|PROFENID|KETOPROFENE", 2, "nsaid",
      "100 mg 2 fois par jour, 5 jours"),
    A("diclofenac", "diclofenac", "VOLTARENE 50 mg|VOLTARENE LP|DICLOFENAC", 1.5, "nsaid",
      "50 mg 3 fois par jour, 5 jours"),
    A("naproxene", "naproxene", "APRANAX 550 mg|APRANAX|NAPROXENE", 1, "nsaid",
      "550 mg 2 fois par jour, 5 jours"),
    A("celecoxib", "celecoxib", "CELEBREX|CELECOXIB", 0.5, "nsaid", "200 mg/j, 7 jours"),
    A("prednisolone", "prednisolone", "SOLUPRED 20 mg|SOLUPRED", 2.5, "corticoid_short",
      "20 à 40 mg/j, 5 jours"),
    A("colchicine", "colchicine", "COLCHICINE OPOCALCIUM", 1, "colchicine", "1 mg/j, 7 jours"),
    A("domperidone", "domperidone", "MOTILIUM|DOMPERIDONE", 0.8, "antiemetic",
      "10 mg 3 fois par jour, 7 jours"),
    A("metoclopramide", "metoclopramide", "METOCLOPRAMIDE .*10 mg|PRIMPERAN", 0.8, "antiemetic",
      "10 mg 3 fois par jour, 5 jours"),
    A("phloroglucinol", "phloroglucinol", "SPASFON LYOC|SPASFON", 2, "antispasmodic",
      "2 cp 3 fois par jour, 5 jours"),
    A("loperamide", "loperamide", "IMODIUM 2 mg|LOPERAMIDE .*2 mg", 0.8, "antidiarrheal",
      "2 mg après chaque selle"),
    A("cetirizine", "cetirizine", "ZYRTEC 10 mg, comprimé|CETIRIZINE .*10 mg, comprimé", 0.8, "antihistamine",
      "10 mg/j, 10 jours"),
)
# fmt: on


def load_referential(directory: Path = REFERENTIAL) -> dict[str, pl.DataFrame]:
    def read(name: str) -> pl.DataFrame:
        return pl.read_csv(directory / name, infer_schema=False)

    return {
        "specialties": read("specialties.csv"),
        "presentations": read("presentations.csv"),
        "compositions": read("compositions.csv"),
        "substances": read("substances.csv"),
    }


def _oral_candidates(ref: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Marketed, non-homeopathic oral specialties with their sorted substance set."""
    subst = (
        ref["compositions"]
        .group_by("cis")
        .agg(pl.col("substance_key").unique().sort().str.join(";").alias("substance_set"))
    )
    return (
        ref["specialties"]
        .filter(
            (pl.col("marketing_status") == "Commercialisée")
            & (pl.col("homeopathic") == "0")
            & pl.col("routes").str.split(";").list.contains("orale")
        )
        .join(subst, on="cis", how="inner")
        .select("cis", "name", "substance_set")
        .sort("cis")
    )


def _unique_atc(substances: pl.DataFrame) -> dict[str, str]:
    """substance key -> its primary ATC code, when no other substance carries that code."""
    seen = (
        substances.filter(pl.col("atc_all").is_not_null())
        .select("key", pl.col("atc_all").str.split(";").alias("code"))
        .explode("code")
    )
    owners = seen.group_by("code").agg(pl.col("key").n_unique().alias("n"))
    single = set(owners.filter(pl.col("n") == 1)["code"].to_list())
    return {key: atc for key, atc in substances.select("key", "atc").iter_rows() if atc and atc in single}


def label_of(name: str) -> str:
    """The specialty name before its first ", " (a decimal comma has no space after it)."""
    return re.sub(r"\s+", " ", re.split(r",\s", name, maxsplit=1)[0]).strip()


def build(ref: dict[str, pl.DataFrame]) -> pl.DataFrame:
    candidates = _oral_candidates(ref)
    presentations = (
        ref["presentations"].filter(pl.col("status") == "Présentation active").sort("cis", "cip13")
    )
    cips_by_cis: dict[str, list[str]] = {}
    for cis, cip13 in presentations.select("cis", "cip13").iter_rows():
        cips_by_cis.setdefault(cis, []).append(cip13)
    atc_of = _unique_atc(ref["substances"])
    known_keys = set(ref["substances"]["key"].to_list())

    errors: list[str] = []
    rows: list[dict[str, object]] = []
    for drug in DRUGS:
        missing = [k for k in drug.substances if k not in known_keys]
        if missing:
            errors.append(f"{drug.drug_id}: unknown substance key(s) {missing}")
            continue
        wanted = ";".join(sorted(drug.substances))
        # initiation kits ("XARELTO 15 mg + 20 mg") are not what a patient is dispensed monthly
        pool = candidates.filter(
            (pl.col("substance_set") == wanted) & ~pl.col("name").str.contains(" + ", literal=True)
        )
        chosen: list[tuple[str, str]] = []
        for pattern in drug.patterns:
            regex = "^" + re.escape(pattern).replace(r"\.\*", ".*") + (r"\b" if pattern[-1].isalnum() else "")
            hits = pool.filter(pl.col("name").str.contains(regex))
            hits = hits.filter(pl.col("cis").is_in(list(cips_by_cis)))
            for cis, name in hits.select("cis", "name").iter_rows():
                if len(chosen) < MAX_SPECIALTIES and cis not in {c for c, _ in chosen}:
                    chosen.append((cis, name))
        if not chosen:
            errors.append(f"{drug.drug_id}: no marketed oral specialty of {wanted} matches {drug.patterns}")
            continue
        cip13s = [cip for cis, _ in chosen for cip in cips_by_cis[cis][:MAX_CIP_PER_SPECIALTY]]
        atc = atc_of.get(drug.substances[0], "") if len(drug.substances) == 1 else ""
        rows.append(
            {
                "drug_id": drug.drug_id,
                "substance_keys": ";".join(drug.substances),
                "label": label_of(chosen[0][1]),
                "cip13": ";".join(cip13s),
                "atc": atc,
                "weight": float(drug.weight),
                "chronic": int(drug.chronic),
                "regimen": drug.regimen,
                "classes": ";".join(drug.classes),
                "sex": drug.sex,
                "cis": ";".join(cis for cis, _ in chosen),
                "specialty": chosen[0][1],
            }
        )
    if errors:
        raise SystemExit("catalogue build failed:\n  " + "\n  ".join(errors))
    catalogue = pl.DataFrame(rows)
    check(catalogue, ref)
    return catalogue


def check(catalogue: pl.DataFrame, ref: dict[str, pl.DataFrame]) -> None:
    """The invariants the generator relies on; raises SystemExit on the first broken one."""
    problems: list[str] = []
    known_cip = set(ref["presentations"]["cip13"].to_list())
    for drug_id, cips in catalogue.select("drug_id", "cip13").iter_rows():
        for cip in cips.split(";"):
            if cip not in known_cip:
                problems.append(f"{drug_id}: CIP13 {cip} not in presentations.csv")
            if not re.fullmatch(r"\d{13}", cip):
                problems.append(f"{drug_id}: malformed CIP13 {cip!r}")
    for column in ("drug_id", "label"):
        dup = catalogue.filter(pl.col(column).is_duplicated())[column].unique().to_list()
        if dup:
            problems.append(f"duplicate {column}: {dup}")
    atc = catalogue.filter(pl.col("atc") != "")
    dup_atc = atc.filter(pl.col("atc").is_duplicated())["atc"].unique().to_list()
    if dup_atc:
        problems.append(f"an ATC code names two catalogue drugs: {dup_atc}")
    subst_atc = dict(ref["substances"].select("key", "atc").iter_rows())
    for drug_id, keys, code in atc.select("drug_id", "substance_keys", "atc").iter_rows():
        if subst_atc.get(keys) != code:
            problems.append(f"{drug_id}: ATC {code} is not the ATC of {keys} in substances.csv")
    names = {n.lower() for n in ref["specialties"]["brand"].drop_nulls().to_list()}
    names |= set(ref["substances"]["key"].to_list())
    for label in UNKNOWN_LABELS:
        if label.split()[0].lower() in names:
            problems.append(f"unknown label {label!r} names a real drug")
    if problems:
        raise SystemExit("catalogue check failed:\n  " + "\n  ".join(problems))


def check_normaliser(catalogue: pl.DataFrame) -> list[str]:
    """Every code and label resolves to the drug's substances in the project's referential lookups
    (CIP13 -> CIS -> components, ATC -> exactly one substance, label -> normaliser), and the
    unknown labels stay unresolved. Needs pharma_service; returns the problems found.
    """
    sys.path.insert(0, str(HERE.parents[1]))
    from pharma_service.models import LineStatus
    from pharma_service.referential.normaliser import Normaliser
    from pharma_service.referential.store import Referential

    ref = Referential.load()
    normaliser = Normaliser(ref)
    problems = []
    for drug_id, keys, cips, atc in catalogue.select("drug_id", "substance_keys", "cip13", "atc").iter_rows():
        wanted = sorted(keys.split(";"))
        for cip in cips.split(";"):
            spec = ref.specialties.get(ref.cip13_to_cis.get(cip, ""))
            if spec is None or sorted({c.substance_key for c in spec.components}) != wanted:
                problems.append(f"{drug_id}: CIP13 {cip} does not resolve to {wanted}")
        if atc and list(ref.atc_to_substances.get(atc, ())) != wanted:
            problems.append(f"{drug_id}: ATC {atc} -> {ref.atc_to_substances.get(atc)}, not {wanted}")
    for drug_id, label, keys in catalogue.select("drug_id", "label", "substance_keys").iter_rows():
        line = normaliser.normalise_text(label)
        got = sorted(s.key for s in line.substances)
        if line.status != LineStatus.RESOLVED or got != sorted(keys.split(";")):
            problems.append(f"{drug_id}: {label!r} -> {line.status.value} {got}")
    for label in UNKNOWN_LABELS:
        line = normaliser.normalise_text(label)
        if line.status != LineStatus.UNRESOLVED:
            problems.append(
                f"unknown label {label!r} -> {line.status.value} {[s.key for s in line.substances]}"
            )
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--referential", type=Path, default=REFERENTIAL)
    parser.add_argument("--out", type=Path, default=CATALOGUE)
    parser.add_argument(
        "--check-normaliser", action="store_true", help="also check labels with pharma_service"
    )
    args = parser.parse_args(argv)
    catalogue = build(load_referential(args.referential))
    if args.check_normaliser:
        problems = check_normaliser(catalogue)
        if problems:
            raise SystemExit("normaliser check failed:\n  " + "\n  ".join(problems))
    catalogue.drop("specialty").write_csv(args.out)
    n_chronic = int(catalogue["chronic"].sum())
    print(
        f"{args.out}: {catalogue.height} drugs ({n_chronic} chronic, {catalogue.height - n_chronic} acute), "
        f"{sum(len(c.split(';')) for c in catalogue['cip13'])} CIP13, "
        f"{int((catalogue['atc'] != '').sum())} with an ATC code"
    )


if __name__ == "__main__":
    main()
