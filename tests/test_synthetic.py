from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hetstack.data import REQUIRED_COLUMNS, validate_bars
from hetstack.synthetic import (ABSORPTION_BARS, ABSORPTION_DELAY, ECHO_BARS, MARKETS, _generate, describe_generator,
                                generate_market, market_strengths, planted_drifts)

N = 30_000  # a bit over three weeks of sessions
ONLY = {
    "interaction": dict(interaction_strength=1.0, motif_strength=0.0, trend_strength=0.0),
    "motif": dict(interaction_strength=0.0, motif_strength=1.0, trend_strength=0.0),
    "trend": dict(interaction_strength=0.0, motif_strength=0.0, trend_strength=1.0),
}


@pytest.fixture(scope="module")
def plain_market():
    """No planted effects: the GARCH/seasonal backbone alone."""
    return generate_market("MES", 60_000, seed=5, effect_strength=0.0)


def log_returns(bars):
    return np.diff(np.log(bars["close"].to_numpy()))


def autocorr(x, lag):
    return np.corrcoef(x[:-lag], x[lag:])[0, 1]


def column_bytes(bars):
    stamps = pd.DatetimeIndex(bars["timestamp"]).asi8.tobytes()
    return stamps + b"".join(bars[c].to_numpy().tobytes() for c in REQUIRED_COLUMNS[1:])


def test_same_symbol_and_seed_give_identical_bytes(tmp_path):
    from hetstack.data import write_bars

    first, second = generate_market("MES", 5000, seed=3), generate_market("MES", 5000, seed=3)
    assert column_bytes(first) == column_bytes(second)
    write_bars(tmp_path / "a.parquet", first)
    write_bars(tmp_path / "b.parquet", second)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert column_bytes(generate_market("MES", 5000, seed=4)) != column_bytes(first)


def test_shorter_market_is_a_prefix_of_a_longer_one():
    pd.testing.assert_frame_equal(generate_market("MGC", 3000), generate_market("MGC", 7000).iloc[:3000], check_exact=True)


def test_different_symbols_differ():
    mes, mgc = generate_market("MES", 5000), generate_market("MGC", 5000)
    assert mes["close"].iloc[0] != mgc["close"].iloc[0]
    assert abs(np.corrcoef(log_returns(mes), log_returns(mgc))[0, 1]) < 0.1
    assert (mes["timestamp"] == mgc["timestamp"]).all()


def test_passes_validation_with_normalized_dtypes():
    bars = generate_market("ZN", N)
    validated = validate_bars(bars, source="synthetic")
    pd.testing.assert_frame_equal(validated, bars, check_exact=True)
    assert tuple(bars.columns) == REQUIRED_COLUMNS and len(bars) == N
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(bars.index, pd.RangeIndex)


def test_no_bars_in_daily_break_or_weekend():
    ts = generate_market("MES", N)["timestamp"]
    hour, weekday = ts.dt.hour, ts.dt.day_of_week  # Monday = 0
    assert not (hour == 22).any()
    assert not (weekday == 5).any()
    assert not ((weekday == 4) & (hour >= 22)).any()
    assert not ((weekday == 6) & (hour < 23)).any()
    gaps = ts.diff().dropna()
    assert set(gaps.unique()) == {pd.Timedelta(minutes=1), pd.Timedelta(minutes=61), pd.Timedelta(hours=49, minutes=1)}
    assert ts.iloc[0] == pd.Timestamp("2024-01-07 23:00", tz="UTC")


def test_ohlc_consistent_and_open_is_previous_close_inside_sessions():
    bars = generate_market("MES", N)
    o, h, l, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    assert (h >= np.maximum(o, c)).all() and (l <= np.minimum(o, c)).all()
    assert (h > l).all()
    in_session = (bars["timestamp"].diff() == pd.Timedelta(minutes=1)).to_numpy()[1:]
    assert (o[1:][in_session] == c[:-1][in_session]).all()
    session_open_gap = np.abs(np.log(o[1:][~in_session] / c[:-1][~in_session]))
    assert 0 < session_open_gap.max() < 0.01


def test_one_bar_volatility_in_range(plain_market):
    sd = log_returns(plain_market).std()
    assert 0.8e-4 < sd < 4e-4


def test_heavy_tails(plain_market):
    r = log_returns(plain_market)
    kurtosis = np.mean((r - r.mean()) ** 4) / r.var() ** 2
    assert kurtosis > 6.0


def test_volatility_clusters(plain_market):
    r = log_returns(plain_market)
    threshold = 4.0 / np.sqrt(len(r))  # well beyond the ~2/sqrt(n) noise band
    assert all(autocorr(np.abs(r), lag) > threshold for lag in range(1, 11))
    # Clustering is not only the intraday pattern: it survives removing the per-minute mean.
    minute = plain_market["timestamp"].dt.hour.to_numpy()[1:] * 60 + plain_market["timestamp"].dt.minute.to_numpy()[1:]
    seasonal = pd.Series(np.abs(r)).groupby(minute).transform("mean").to_numpy()
    deseasonalized = np.abs(r) / seasonal
    assert all(autocorr(deseasonalized, lag) > threshold for lag in range(1, 11))


def test_intraday_seasonality_and_volume_follows_moves(plain_market):
    ts = plain_market["timestamp"].iloc[1:]
    minute = (ts.dt.hour * 60 + ts.dt.minute).to_numpy()
    abs_r = np.abs(log_returns(plain_market))
    volume = plain_market["volume"].to_numpy()[1:]
    us_open = (minute >= 14 * 60 + 30) & (minute < 15 * 60)
    overnight = (minute >= 2 * 60) & (minute < 5 * 60)
    assert abs_r[us_open].mean() > 1.5 * abs_r[overnight].mean()
    assert volume[us_open].mean() > 2.0 * volume[overnight].mean()
    # Within the same minute of day, bigger moves come with more volume.
    within = pd.DataFrame({"m": minute, "a": abs_r, "v": np.log(volume)}).groupby("m").transform(lambda s: s - s.mean())
    assert np.corrcoef(within["a"], within["v"])[0, 1] > 0.2


def test_strengths_switch_the_planted_drifts():
    _, off = _generate("MES", 5000, 0, 0.0, 1.0, 1.0, 1.0)
    assert all(not drift.any() for drift in off.values())
    for name, strengths in ONLY.items():
        _, on = _generate("MES", 5000, 0, 1.0, strengths["interaction_strength"], strengths["motif_strength"], strengths["trend_strength"])
        assert on[name].any()
        assert all(not on[other].any() for other in ONLY if other != name)


def _forward_z(bars, horizon):
    """Return over the next `horizon` bars in units of the trailing 60-bar vol."""
    log_c = np.log(bars["close"].to_numpy())
    vol = pd.Series(np.diff(log_c, prepend=np.nan)).rolling(60).std().to_numpy()
    forward = np.full(len(log_c), np.nan)
    forward[:-horizon] = log_c[horizon:] - log_c[:-horizon]
    return forward / (vol * np.sqrt(horizon))


def _interaction_signal(bars):
    """The interaction signal rebuilt from bars only, with the generator's definitions."""
    log_c = pd.Series(np.log(bars["close"].to_numpy()))
    r = log_c.diff()
    ew_vol = np.sqrt((r**2).ewm(alpha=0.05, adjust=False).mean())
    price_z = (log_c - log_c.ewm(alpha=2 / 21, adjust=False).mean()) / (ew_vol * np.sqrt(20))
    log_v = pd.Series(np.log(bars["volume"].to_numpy()))
    baseline = log_v.ewm(alpha=2 / 61, adjust=False)
    activity_z = (log_v.ewm(alpha=2 / 6, adjust=False).mean() - baseline.mean().shift(1)) / np.sqrt(baseline.var(bias=True).shift(1))
    return np.tanh(price_z * activity_z).to_numpy()


def _motif_edge(bars, horizon=15):
    """Mean forward return after 'three up, high-volume down' minus after the mirror motif."""
    log_c = pd.Series(np.log(bars["close"].to_numpy()))
    r = log_c.diff()
    move = r / np.sqrt((r**2).ewm(alpha=0.05, adjust=False).mean().shift(1))
    log_v = pd.Series(np.log(bars["volume"].to_numpy()))
    baseline = log_v.ewm(alpha=2 / 61, adjust=False)
    volume_z = (log_v - baseline.mean().shift(1)) / np.sqrt(baseline.var(bias=True).shift(1))
    up, down = move > 0.2, move < -0.2
    ups = up.shift(1, fill_value=False) & up.shift(2, fill_value=False) & up.shift(3, fill_value=False)
    downs = down.shift(1, fill_value=False) & down.shift(2, fill_value=False) & down.shift(3, fill_value=False)
    bull = (ups & down & (volume_z > 0.5)).to_numpy()
    bear = (downs & up & (volume_z > 0.5)).to_numpy()
    forward = _forward_z(bars, horizon)
    ok = np.isfinite(forward)
    assert bull[ok].sum() > 100 and bear[ok].sum() > 100
    return forward[bull & ok].mean() - forward[bear & ok].mean()


def _block_return_autocorr(bars, block=240):
    log_c = np.log(bars["close"].to_numpy())
    block_returns = np.diff(log_c[::block])
    return autocorr(block_returns, 1)


@pytest.mark.parametrize("seed", [0, 1])
def test_interaction_effect_is_measurable(seed):
    def edge(strength):
        bars = generate_market("MES", 40_000, seed=seed, **{**ONLY["interaction"], "interaction_strength": strength})
        signal, forward = _interaction_signal(bars), _forward_z(bars, 5)
        ok = np.isfinite(signal) & np.isfinite(forward)
        ok[:300] = False
        return np.corrcoef(signal[ok], forward[ok])[0, 1]

    on, off = edge(2.0), edge(0.0)
    assert abs(off) < 0.03
    assert on > 0.25


@pytest.mark.parametrize("seed", [0, 1])
def test_motif_effect_is_measurable(seed):
    def edge(strength):
        return _motif_edge(generate_market("MGC", 60_000, seed=seed, **{**ONLY["motif"], "motif_strength": strength}))

    on, off = edge(2.0), edge(0.0)
    assert abs(off) < 0.3
    assert on > 2.0


@pytest.mark.parametrize("seed", [0, 1])
def test_slow_trend_effect_is_measurable(seed):
    def edge(strength):
        return _block_return_autocorr(generate_market("ZN", 100_000, seed=seed, **{**ONLY["trend"], "trend_strength": strength}))

    on, off = edge(3.0), edge(0.0)
    assert abs(off) < 0.2
    assert on > 0.35


def test_default_effects_leave_returns_mostly_unpredictable():
    """Weak means weak: default 1-bar autocorrelation stays small."""
    r = log_returns(generate_market("MES", 40_000))
    assert abs(autocorr(r, 1)) < 0.15


def test_description_matches_docs_file():
    text = describe_generator()
    docs = Path(__file__).resolve().parents[1] / "docs" / "synthetic-market.md"
    assert docs.read_text() == text
    for phrase in ("GARCH", "Student-t", "22:00", "Interaction", "motif", "Ornstein-Uhlenbeck", "What it is not"):
        assert phrase in text



def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        generate_market("", 10)
    with pytest.raises(ValueError):
        generate_market("MES", 0)
    with pytest.raises(ValueError):
        generate_market("MES", 10, seed=-1)


def test_config_effects_reach_the_generator(tmp_path):
    """synthetic.effects in the config turns single effects off in the workflow's bars."""
    from hetstack.stages.data import SyntheticSettings, prepare_bars

    synthetic = SyntheticSettings(n_bars=3000, seed=4, market="classic",
                                  effects={"interaction": 0.0, "motif": 1.0, "trend": 0.0})
    bars = prepare_bars("MES", None, str(tmp_path / "bars.parquet"), synthetic)
    expected = generate_market("MES", 3000, seed=4, interaction_strength=0.0, trend_strength=0.0)
    pd.testing.assert_frame_equal(bars, expected)
    assert not bars.equals(generate_market("MES", 3000, seed=4))
    assert pd.read_parquet(tmp_path / "bars.parquet").equals(bars)


def test_config_market_names_the_strengths_and_effects_override_them(tmp_path):
    from hetstack.stages.data import SyntheticSettings, prepare_bars

    synthetic = SyntheticSettings(n_bars=3000, seed=4, market="heterogeneous", effects={"echo": 0.0})
    bars = prepare_bars("MES", None, str(tmp_path / "bars.parquet"), synthetic)
    strengths = {**MARKETS["heterogeneous"], "echo": 0.0}
    assert strengths["absorption"] > 0 and strengths["motif"] == 0
    expected = generate_market("MES", 3000, seed=4, **{f"{k}_strength": v for k, v in strengths.items()})
    pd.testing.assert_frame_equal(bars, expected)


# The heterogeneous market's effects: one per view (docs/synthetic-market.md).

ALONE = {name: {**{f"{k}_strength": 0.0 for k in MARKETS["classic"]}, f"{name}_strength": 1.0}
         for name in ("absorption", "echo")}


def test_the_classic_market_is_the_one_of_every_earlier_figure():
    """Adding effects (and their random streams) left the market of docs/benchmarks.md byte for byte:
    this digest is of generate_market's output before the absorption and echo effects existed."""
    import hashlib

    bars = generate_market("MES", 3000, seed=42)
    digest = hashlib.sha256(bars[list(REQUIRED_COLUMNS[1:])].to_numpy().tobytes()).hexdigest()
    assert digest == "67b919ad184d734f0cdfa04c5002d104a7352e90e59afc03745c497598ac8e4a"
    classic = {f"{k}_strength": v for k, v in market_strengths("classic").items()}
    pd.testing.assert_frame_equal(generate_market("MES", 3000, seed=42, **classic), bars, check_exact=True)


def test_market_strengths_name_the_market_and_refuse_unknown_names():
    assert market_strengths("heterogeneous", {"echo": 0.5})["echo"] == 0.5
    assert market_strengths("heterogeneous")["motif"] == 0.0 and market_strengths("classic")["absorption"] == 0.0
    with pytest.raises(ValueError, match="unknown synthetic market 'views'"):
        market_strengths("views")
    with pytest.raises(ValueError, match="unknown synthetic effects"):
        market_strengths("classic", {"shock": 1.0})


def test_new_effects_switch_only_their_own_drift_and_keep_the_prefix_property():
    for name, strengths in ALONE.items():
        bars, drifts = planted_drifts("MES", 4000, 1, **strengths)
        assert drifts[name].any() and all(not d.any() for other, d in drifts.items() if other != name)
        shorter = generate_market("MES", 2500, 1, **strengths)
        pd.testing.assert_frame_equal(shorter, bars.iloc[:2500], check_exact=True)


def _aligned_forward(log_c, starts, offset, bars, sides):
    """Mean of side * (log return over bars start+offset .. start+offset+bars-1) in 1-bar sds."""
    ok = starts + offset + bars < len(log_c)
    s, side = starts[ok], sides[ok]
    move = log_c[s + offset + bars - 1] - log_c[s + offset - 1]
    sd = np.std(np.diff(log_c))
    return float(np.mean(side * move) / (sd * np.sqrt(bars))), int(ok.sum())


def test_absorption_wick_and_volume_mark_the_event_and_drift_comes_after_the_delay():
    from hetstack.synthetic import _events, _streams

    bars, drifts = planted_drifts("MES", 60_000, 2, **ALONE["absorption"])
    events = _events(_streams("MES", 2)[9], 60_000, 20.0)
    at = np.flatnonzero(events)
    sides = events[at]
    o, h, l, c = (np.log(bars[k].to_numpy()) for k in ("open", "high", "low", "close"))
    lower, upper = np.minimum(o, c) - l, h - np.maximum(o, c)
    wick_side = np.sign(lower[at] - upper[at])
    assert np.mean(wick_side == sides) > 0.9  # buyers absorbing leave the long lower wick
    volume = np.log(bars["volume"].to_numpy())
    assert volume[at].mean() > volume.mean() + 0.7
    during, n = _aligned_forward(c, at, ABSORPTION_DELAY, ABSORPTION_BARS, sides)
    before, _ = _aligned_forward(c, at, 1, ABSORPTION_DELAY - 1, sides)
    assert during > 0.5 and n > 2000  # the drift, seen in the bars themselves
    assert abs(before) < 0.1  # nothing moves between the event and the delay
    assert np.array_equal(np.flatnonzero(drifts["absorption"])[:1], at[:1] + ABSORPTION_DELAY)


def test_echo_follows_the_hour_a_session_back_after_heavy_volume_and_the_bar_itself_says_not_which_way():
    from hetstack.synthetic import ECHO_FAR, ECHO_NEAR, _events, _streams

    n = 60_000
    bars, drifts = planted_drifts("MES", n, 3, **ALONE["echo"])
    at = np.flatnonzero(_events(_streams("MES", 3)[10], n, 40.0))
    at = at[at >= ECHO_FAR]
    log_c = np.log(bars["close"].to_numpy())
    sides = np.sign(log_c[at - ECHO_NEAR] - log_c[at - ECHO_FAR])
    echoed, count = _aligned_forward(log_c, at, 1, ECHO_BARS, sides)
    assert echoed > 0.8 and count > 1000
    own_bar = np.diff(log_c)[at - 1]
    # The heavy bar's own move hardly gives the way: only where an earlier echo, looking at an
    # overlapping hour, still drifts (about 0.12 here).
    assert abs(np.corrcoef(own_bar, sides)[0, 1]) < 0.2
    recent = log_c[at] - log_c[at - 240]
    assert abs(np.corrcoef(recent, sides)[0, 1]) < 0.1  # nor do the last four hours
    volume = np.log(bars["volume"].to_numpy())
    assert volume[at].mean() > volume.mean() + 1.0
    assert np.flatnonzero(drifts["echo"])[0] == at[0] + 1
