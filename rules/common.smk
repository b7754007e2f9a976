# Config access, wildcard constraints and input functions. Nothing here imports a heavy library
# or reads data: parsing stays fast so that --dry-run plans thousands of jobs quickly.
import functools
import math

# Jobs (local, conda or SLURM) find the library the way the Snakefile does, installed or not.
if os.path.isdir(HETSTACK_SRC):
    os.environ.update(
        PYTHONPATH=os.pathsep.join(
            p for p in (HETSTACK_SRC, os.environ.get("PYTHONPATH")) if p
        )
    )

from hetstack import config as hcfg
from hetstack.catalogue import aliases, available, canonical_name, get_spec
from hetstack.meta.meta_auto import AutoMeta
from hetstack.paths import (
    REPLICATE_PATTERN,
    STUDY,
    STUDY_PAGE,
    replicate_index,
    replicate_suffix,
    run_file,
    symbol_file,
)

SYMBOLS = hcfg.symbols(config)
HORIZONS = hcfg.horizons(config)
# replicates: K: every model fit rerun with seeds seed .. seed + K - 1 on the same bars and labels
REPLICATES = [replicate_suffix(r) for r in range(hcfg.replicates(config))]
BASES = hcfg.base_models(config)
METAS = hcfg.meta_learners(config)
hcfg.check_oof(config)
OOF_MODE = config["oof"].get("mode", "stacking")
# blending: one "fold" whose test part is the hold-out the meta-learner is fitted on
N_FOLDS = 1 if OOF_MODE == "blending" else config["oof"]["n_folds"]
FAMILY_CLASH = hcfg.family_clash(BASES)
if FAMILY_CLASH:
    if config.get("strict_families", False):
        raise hcfg.ConfigError(
            hcfg.where("base_models"),
            FAMILY_CLASH,
            "pick one base per family or set strict_families: false",
        )
    logger.warning(
        f"hetstack: {FAMILY_CLASH} (the design picks one base per family; set strict_families: true to refuse)"
    )
CONFIG_DIGEST = hcfg.digest(config)
# tuning.bases: the bases whose params an Optuna study on the tuning span chooses (rules/tuning.smk).
TUNING = hcfg.tuning(config)
TUNED = TUNING["bases"]
# oos.scheme walkforward: the labels' test split is the record after the initial span, cut into windows.
OOS = hcfg.oos(config)
WALKFORWARD = OOS["scheme"] == "walkforward"
N_WINDOWS = OOS["n_windows"]
LAST_WINDOW = N_WINDOWS - 1
TEST_FRACTION = (
    1 - OOS["initial_fraction"] if WALKFORWARD else config["split"]["test_fraction"]
)
WALKFORWARD_SETTINGS = dict(
    n_windows=N_WINDOWS,
    purge_bars=config["oof"]["purge_bars"],
    embargo_bars=config["oof"]["embargo_bars"],
    train_bars=OOS["train_bars"],
)


wildcard_constraints:
    symbol=hcfg.SYMBOL_PATTERN,
    horizon=r"[1-9][0-9]*",
    replicate=REPLICATE_PATTERN,
    base="|".join(available("base")),
    meta="|".join(available("meta") + list(aliases("meta"))),
    fold=r"0|[1-9][0-9]*",  # no leading zeros: fold01 would be a second name for fold1
    split=r"0|[1-9][0-9]*",
    window=r"0|[1-9][0-9]*",
    worker=r"0|[1-9][0-9]*",


def all_targets():
    """Every report plus the intermediates: Snakemake skips a deleted intermediate whose consumers
    are up to date, so naming the OOF shards here makes `snakemake` rebuild a deleted one.
    """
    runs = dict(symbol=SYMBOLS, horizon=HORIZONS, replicate=REPLICATES)
    return (
        expand(run_file("{meta}_report.json"), meta=METAS, **runs)
        + expand(
            run_file("oof/{base}/fold{fold}.parquet"),
            base=BASES,
            fold=range(N_FOLDS),
            **runs,
        )
        + expand(run_file("test/{base}.parquet"), base=BASES, **runs)
        + (
            expand(
                run_file("walkforward/bases/{base}/window{window}.parquet"),
                base=BASES,
                window=range(N_WINDOWS),
                **runs,
            )
            if WALKFORWARD
            else []
        )
        + expand(run_file("run_settings.json"), **runs)
        + expand(run_file("manifest.json"), **runs)
        + (
            expand(run_file("tracking/{meta}_mlflow.json"), meta=METAS, **runs)
            if MLFLOW_URI
            else []
        )
    )


def plot_targets():
    return expand(
        run_file("plots/{meta}/scores.svg"),
        symbol=SYMBOLS,
        horizon=HORIZONS,
        replicate=REPLICATES,
        meta=METAS,
    )


def data_file(wildcards):
    """The user's bars for a symbol, or None: then the synthetic market is generated."""
    return _data_file(wildcards.symbol)


@functools.lru_cache(maxsize=None)
def _data_file(symbol):
    # once per symbol, not once per job asking (bars input and params, labels params)
    from hetstack.data_files import find_data_file

    return find_data_file(config["data_dir"], symbol)


# Looked up while parsing: a misnamed file is one line before any job, not an input function's traceback.
for _symbol in SYMBOLS:
    _data_file(_symbol)


def bars_input(wildcards):
    path = data_file(wildcards)
    return [path] if path else []


def oof_shards(wildcards):
    return expand(
        run_file("oof/{base}/fold{fold}.parquet"),
        base=BASES,
        fold=range(N_FOLDS),
        **wildcards,
    )


def fold_test_shards(wildcards):
    return expand(
        run_file("oof/{base}/fold{fold}.test.parquet"),
        fold=range(N_FOLDS),
        **wildcards,
    )


def base_tests(wildcards):
    return expand(run_file("test/{base}.parquet"), base=BASES, **wildcards)


def window_shards(wildcards, base, n_windows):
    """A base's walk-forward predictions of windows 0 .. n_windows - 1."""
    return expand(
        run_file("walkforward/bases/{base}/window{window}.parquet"),
        symbol=wildcards.symbol,
        horizon=wildcards.horizon,
        replicate=wildcards.replicate,
        base=base,
        window=range(n_windows),
    )


def earlier_window_shards(wildcards):
    """What a window's meta-learner reads beside the OOF matrix: every base's earlier windows."""
    return [
        p for b in BASES for p in window_shards(wildcards, b, int(wildcards.window))
    ]


def walkforward_report_inputs(wildcards):
    """With oos.scheme walkforward, a report also reads the windows and every window's meta-learners."""
    if not WALKFORWARD:
        return {}
    metas = [canonical_name(m) for m in [wildcards.meta] + trial_names(wildcards)]
    return dict(
        windows=run_file("walkforward/windows.json").format(**wildcards),
        window_metas=[
            run_file("walkforward/meta/{name}/window{window}").format(
                name=name, window=w, **wildcards
            )
            for name in metas
            for w in range(N_WINDOWS)
        ],
    )


def walkforward_windows_table(wildcards):
    """A walk-forward run's windows: its deployed models are the last window's."""
    if not WALKFORWARD:
        return {}
    return dict(windows=run_file("walkforward/windows.parquet").format(**wildcards))


def run_models(wildcards):
    """The models the settings describe: settings rebuilt alone must not pair new windows with old weights."""
    bases = (
        "models/bases/{base}"
        if config["retrain_bases_on_full"] or WALKFORWARD
        else "test/{base}.parquet"
    )
    return expand(run_file(bases), base=BASES, **wildcards) + expand(
        run_file("models/meta/{meta}"),
        meta=[canonical_name(m) for m in METAS],
        **wildcards,
    )


def meta_model(wildcards):
    return run_file("models/meta/{name}").format(
        name=canonical_name(wildcards.meta), **wildcards
    )


def trial_names(wildcards):
    """The run's other meta-learners: trials beside this one in its report's DSR and PBO."""
    mine = canonical_name(wildcards.meta)
    return [m for m in METAS if canonical_name(m) != mine]


def trial_models(wildcards):
    return [
        run_file("models/meta/{name}").format(name=canonical_name(m), **wildcards)
        for m in trial_names(wildcards)
    ]


def adapter_arrays(wildcards):
    """Array files a base reads: the feature matrix (tabular, sequence) or the multires bars."""
    name = (
        "multires"
        if _base_spec(wildcards.base).input_kind == "multires"
        else "features"
    )
    return {name: symbol_file(f"{name}.npy").format(symbol=wildcards.symbol)}


def model_params(wildcards):
    return hcfg.model_params(config, wildcards.get("base") or wildcards.get("meta"))


def candidate_params(wildcards):
    """meta_auto and meta_shrink fit their candidates: their model_params (empty for any other meta)."""
    if not AutoMeta.is_auto(canonical_name(wildcards.meta)):
        return {}
    return {m: hcfg.model_params(config, m) for m in available("meta")}


def fit_threads(wildcards):
    """Boosters, networks and wide models use the configured threads; linear models one."""
    spec = _base_spec(wildcards.base)
    heavy = (
        spec.family != "classical"
        if spec.cls.threaded_fit is None
        else spec.cls.threaded_fit
    )
    return config.get("threads", {}).get("fit", 2) if heavy else 1


@functools.lru_cache(maxsize=None)
def _base_spec(base):
    """Registry lookups once per base, not once per job (planning thousands of fold jobs)."""
    return get_spec(base)


@functools.lru_cache(maxsize=None)
def is_neural(base):
    return hasattr(_base_spec(base).cls, "training_params")  # the PyTorch bases


def fit_mem_mb(wildcards, attempt):
    """Neural jobs hold torch and batches of windows; every retry asks for more."""
    return (3072 if is_neural(wildcards.base) else 2048) * attempt


def fit_gpus(wildcards):
    """One GPU for a neural job when it trains on CUDA (a SLURM profile turns it into --gpus; the
    default profile's `resources: gpu: 1` runs one such job at a time locally)."""
    return int(is_neural(wildcards.base))


# Every resource costs Snakemake work per job while planning, so `gpu` exists only when it can be 1:
# device cuda, or auto on a host that shows an NVIDIA GPU (hcfg.wants_gpu; no torch import here).
def fit_runtime(wildcards, attempt):
    """Minutes a SLURM fold job asks for; a group of fold jobs asks for their sum (profiles/slurm)."""
    return (60 if is_neural(wildcards.base) else 15) * attempt


FIT_RESOURCES = dict(mem_mb=fit_mem_mb, runtime=fit_runtime)
if hcfg.wants_gpu(config["training"].get("device", "cpu")):
    FIT_RESOURCES["gpu"] = fit_gpus


ADAPTERS = {kind: dict(config["adapters"][kind]) for kind in ("sequence", "multires")}
REGIME_WINDOW = config["regime"]["window"]

META_SETTINGS = dict(
    val_split=config["training"]["val_split"],
    use_oof_for_val=config["training"]["use_oof_for_val"],
    n_folds=config["oof"]["n_folds"],
    purge_bars=config["oof"]["purge_bars"],
    embargo_bars=config["oof"]["embargo_bars"],
    use_sample_weights=hcfg.meta_sample_weights(config),
    drop_unskilled_bases=config["training"].get("drop_unskilled_bases", True),
    regime_window=REGIME_WINDOW,
    refit_all_rows=config["training"].get("meta_refit_all_rows", True),
)

MLFLOW_URI = (config.get("tracking") or {}).get("mlflow_uri")
MLFLOW_EXPERIMENT = (config.get("tracking") or {}).get("experiment", "hetstack")
# Files of rule plot_run, logged as MLflow artifacts.
PLOT_FILES = [
    "headline.html",
    "scores.html",
    "scores.svg",
    "reliability.svg",
    "equity.svg",
    "weights.svg",
    "oof_folds.svg",
]

# oof.scheme cpcv: the outer C(N, k) splits, then the inner C(N, k+1) ones the meta-learners read.
CPCV = config["oof"].get("scheme", "kfold") == "cpcv"
CPCV_SETTINGS = dict(
    n_groups=config["oof"].get("n_groups", 6),
    k_test_groups=config["oof"].get("k_test_groups", 2),
    purge_bars=config["oof"]["purge_bars"],
    embargo_bars=config["oof"]["embargo_bars"],
)
if CPCV:
    PLOT_FILES.append("cpcv.svg")
if WALKFORWARD:
    PLOT_FILES.append("walkforward.svg")
N_CPCV_SPLITS = math.comb(
    CPCV_SETTINGS["n_groups"], CPCV_SETTINGS["k_test_groups"]
) + math.comb(CPCV_SETTINGS["n_groups"], CPCV_SETTINGS["k_test_groups"] + 1)


def cpcv_shards(wildcards):
    return expand(
        run_file("cpcv/{base}/split{split}.parquet"),
        base=BASES,
        split=range(N_CPCV_SPLITS),
        **wildcards,
    )


def cpcv_report_inputs(wildcards):
    """With oof.scheme cpcv, a report also reads the CPCV paths of the bases and of its meta-learners."""
    if not CPCV:
        return {}
    metas = [wildcards.meta] + trial_names(wildcards)
    return dict(
        cpcv_summary=run_file("cpcv/splits.json").format(**wildcards),
        cpcv_shards=cpcv_shards(wildcards),
        cpcv_metas=[
            run_file("cpcv/meta/{name}.parquet").format(
                name=canonical_name(m), **wildcards
            )
            for m in metas
        ],
    )


def fit_seed(wildcards):
    """The seed of a run's model fits: config seed + r for seed replicate r (the bars' seed stays)."""
    return config["seed"] + replicate_index(wildcards.replicate)


def train_params(wildcards):
    """TRAIN_PARAMS with the replicate's seed (the same object for the first: nothing to copy)."""
    if not wildcards.replicate:
        return TRAIN_PARAMS
    return {**TRAIN_PARAMS, "seed": fit_seed(wildcards)}


# One params entry, not seven: Snakemake processes every entry of every job while planning.
TRAIN_PARAMS = dict(
    adapters=ADAPTERS,
    device=config["training"].get("device", "cpu"),
    seed=config["seed"],
    val_split=config["training"]["val_split"],
    purge_bars=config["oof"]["purge_bars"],
    embargo_bars=config["oof"]["embargo_bars"],
    use_sample_weights=config["oof"]["use_sample_weights"],
)


def tuned_params(wildcards):
    """A tuned base's fold and retrain jobs read the chosen params (and rerun when they change)."""
    if wildcards.base not in TUNED:
        return {}
    return {"tuned": run_file("tuning/{base}/tuned.json").format(**wildcards)}


def tune_workers(wildcards):
    return expand(
        run_file("tuning/{base}/worker{worker}.json"),
        worker=range(TUNING["workers"]),
        **wildcards,
    )


def tuned_files(wildcards):
    """Every tuned base's choice and trials: the report counts the trials in its deflated Sharpe."""
    return expand(run_file("tuning/{base}/tuned.json"), base=list(TUNED), **wildcards)


def tune_runtime(wildcards, attempt):
    """Minutes a SLURM worker asks for: its time budget and the trial running when it ends."""
    timeout = TUNED[wildcards.base]["timeout_s"]
    return (
        120 if timeout is None else int(timeout / 60) + fit_runtime(wildcards, 1)
    ) * attempt


# leakage_meter: the bases also fitted on shuffled folds, for the report alone (rules/meter.smk).
METER = config.get("leakage_meter") or {}
METERED = (
    [
        b
        for b in BASES
        if METER.get("bases", "tabular") == "all"
        or _base_spec(b).input_kind == "tabular"
    ]
    if METER.get("enabled", False)
    else []
)


def meter_files(wildcards):
    return expand(run_file("meter/{base}.parquet"), base=METERED, **wildcards)


if METERED:
    PLOT_FILES.append("meter.svg")
