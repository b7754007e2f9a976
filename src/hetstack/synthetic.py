"""An embedded, seeded synthetic futures market, used when the user brings no data.

Bars follow a CME-like calendar and carry weak planted effects of different kinds. Two named
markets (MARKETS): classic (a current-row interaction, a short temporal motif, a slow trend) and
heterogeneous (the interaction, an absorption pattern 10-40 bars back, an echo of an hour a session
back: each needs information only one view of the data holds). See describe_generator().
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from hetstack.data import REQUIRED_COLUMNS

START = pd.Timestamp("2024-01-07 23:00", tz="UTC")  # a Sunday evening session open
SESSION_BARS = 23 * 60  # 23:00 -> 22:00 UTC next day; the hour 22:00-23:00 is the daily break
SESSIONS_PER_WEEK = 5  # sessions open Sun..Thu evenings; Fri 22:00 -> Sun 23:00 has no bars
US_DATA_BAR = 14 * 60 + 30  # 13:30 UTC, bars since 23:00 UTC
US_OPEN_BAR = 15 * 60 + 30  # 14:30 UTC US cash open
US_CLOSE_BAR = 22 * 60  # 21:00 UTC US cash close
EUROPE_OPEN_BAR = 9 * 60  # 08:00 UTC

# GARCH(1,1) on the deseasonalized shock; persistence 0.98 gives clustering over ~hours.
GARCH_ALPHA, GARCH_BETA = 0.05, 0.93
T_DF = 4.0  # Student-t degrees of freedom of the shocks
SHOCK_CLIP = 5.0  # cap on |shock| fed back into the variance, so a single huge tick cannot explode it

# Observable statistics that the planted effects are defined on (reproducible from the bars).
EW_VOL_ALPHA = 0.05  # EW variance of 1-bar log returns
PRICE_EMA_ALPHA = 2.0 / 21.0  # EMA of log close, "20-bar mean"
VOLUME_EW_ALPHA = 2.0 / 61.0  # EW mean/variance of log volume, the baseline for volume z-scores
ACTIVITY_EMA_ALPHA = 2.0 / 6.0  # 5-bar EMA of log volume: the recent activity level

# (a) interaction: next bar's drift follows tanh(price z * volume z) of the current bar.
INTERACTION_DRIFT = 0.45  # per-bar drift in 1-bar sds per unit of the signal
# (b) motif: three bars one way, then a high-volume bar the other way -> drift back the first way.
MOTIF_DRIFT = 0.25  # per-bar drift in 1-bar sds while the motif is active
MOTIF_BARS = 15
MOTIF_MOVE = 0.2  # |return| / EW vol that counts as an up or down bar
MOTIF_VOLUME_Z = 0.5
# (c) slow trend: OU latent with unit variance and a half-life of ~1.5 sessions.
TREND_DRIFT = 0.03  # per-bar drift in 1-bar sds per unit of the latent
TREND_HALF_LIFE = 2000.0
# (d) regime (off by default): a latent two-state volatility regime; only in the volatile state does
# the interaction signal (a) move prices. It switches every REGIME_MEAN_BARS on average, slower than
# any window of the bases' inputs (240 bars), so a meta-learner reading a long window sees it best.
# A mild vol step (x1.3) is blurred by GARCH clustering and seasonality in the bases' 240-bar windows
# (it separates the states with an AUC of about 0.73) but much less in a day's (about 0.86).
REGIME_DRIFT = 0.9  # per-bar drift in 1-bar sds per unit of the interaction signal, volatile state only
REGIME_VOL_MULT = 1.3  # bar sd multiplier in the volatile state
REGIME_MEAN_BARS = 6000.0
# (e) absorption (window view): on about one bar in ABSORPTION_EVERY, heavy volume meets one long wick,
# the side where a large order was absorbed; ABSORPTION_DELAY bars later price drifts away from that
# side for ABSORPTION_BARS bars. The wick's side is per-bar detail: the row keeps candles for 3 bars
# only, so only a window of rows (or raw 1-bar bars) sees the events whose drift is still to come.
ABSORPTION_EVERY = 20.0
ABSORPTION_DELAY = 30
ABSORPTION_BARS = 10
ABSORPTION_DRIFT = 0.5  # per-bar drift in 1-bar sds while it lasts
ABSORPTION_WICK = 2.5  # extra wick, in bar sds
ABSORPTION_VOLUME = 1.0  # extra log volume of the event bar
# (f) echo (long history): on about one bar in ECHO_EVERY, heavy volume on a bar of ordinary move; for
# ECHO_BARS bars after it, price drifts the way the market went in the same hour one session earlier
# (from ECHO_FAR to ECHO_NEAR bars back). Every view sees the heavy bar, none but the multi-resolution
# window's hourly bars sees that hour, so the others know something will move but not which way.
ECHO_EVERY = 40.0
ECHO_NEAR, ECHO_FAR = SESSION_BARS, SESSION_BARS + 60
ECHO_BARS = 10
ECHO_DRIFT = 1.0
ECHO_VOLUME = 1.5


# Named sets of effect strengths (config `synthetic.market`); `synthetic.effects` overrides single ones.
# classic: the market of every figure before 2026-12-06, generate_market's own defaults. heterogeneous:
# one effect per view, each needing information that the other views lack (docs/synthetic-market.md).
MARKETS = {
    "heterogeneous": {"interaction": 1.0, "motif": 0.0, "trend": 0.0, "regime": 0.0, "absorption": 1.0, "echo": 1.0},
    "classic": {"interaction": 1.0, "motif": 1.0, "trend": 1.0, "regime": 0.0, "absorption": 0.0, "echo": 0.0},
}
DEFAULT_MARKET = "heterogeneous"  # config.yaml's; the classic one is config/classic.yaml's


def market_strengths(market: str = DEFAULT_MARKET, effects: dict | None = None) -> dict[str, float]:
    """Every effect's strength: the named market's, overridden by `effects`."""
    if market not in MARKETS:
        raise ValueError(f"unknown synthetic market {market!r}; known: {sorted(MARKETS)}")
    unknown = set(effects or {}) - set(MARKETS[market])
    if unknown:
        raise ValueError(f"unknown synthetic effects {sorted(unknown)}; known: {sorted(MARKETS[market])}")
    return {**MARKETS[market], **{name: float(value) for name, value in (effects or {}).items()}}


def generate_market(
    symbol: str,
    n_bars: int,
    seed: int = 0,
    *,
    effect_strength: float = 1.0,
    interaction_strength: float = 1.0,
    motif_strength: float = 1.0,
    trend_strength: float = 1.0,
    regime_strength: float = 0.0,
    absorption_strength: float = 0.0,
    echo_strength: float = 0.0,
) -> pd.DataFrame:
    """Seeded 1-minute OHLCV bars for `symbol`, normalized like hetstack.data.read_bars.

    Reproducible byte for byte for the same (symbol, seed, strengths). `effect_strength` scales
    all planted effects; the per-effect strengths scale them one at a time (0 turns off). The defaults
    are the classic market (MARKETS). The regime, absorption and echo effects are off unless their
    strength is > 0; only then do their volatility regime, wicks and heavy-volume bars exist, so with
    them off the market is the one generated before they were added.
    """
    return planted_drifts(symbol, n_bars, seed, effect_strength=effect_strength,
                          interaction_strength=interaction_strength, motif_strength=motif_strength,
                          trend_strength=trend_strength, regime_strength=regime_strength,
                          absorption_strength=absorption_strength, echo_strength=echo_strength)[0]


def planted_drifts(symbol: str, n_bars: int, seed: int = 0, **strengths) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """generate_market's bars and, per effect, the drift it planted in each bar (in that bar's sds):
    what an oracle knows, for tests and bench/effects.py."""
    names = ("interaction", "motif", "trend", "regime", "absorption", "echo")  # _generate's order
    unknown = set(strengths) - {"effect_strength"} - {f"{n}_strength" for n in names}
    if unknown:
        raise TypeError(f"unknown strengths {sorted(unknown)}")
    values = [float(strengths.get(f"{n}_strength", MARKETS["classic"][n])) for n in names]
    return _generate(symbol, n_bars, seed, float(strengths.get("effect_strength", 1.0)), *values)


def volatile_regime(symbol: str, n_bars: int, seed: int = 0) -> np.ndarray:
    """The latent regime path (True: volatile) that a market with `regime_strength` > 0 follows."""
    return _regime_path(_streams(symbol, seed)[8], int(n_bars))


def _streams(symbol: str, seed: int) -> list[np.random.Generator]:
    symbol_key = int.from_bytes(hashlib.sha256(symbol.encode("utf-8")).digest()[:8], "little")
    # One independent stream per input, so a shorter market is an exact prefix of a longer one
    # (SeedSequence children depend on their index only: a ninth stream leaves the first eight).
    return [np.random.default_rng(s) for s in np.random.SeedSequence([int(seed), symbol_key]).spawn(11)]


def _regime_path(rng: np.random.Generator, n_bars: int) -> np.ndarray:
    """Two-state Markov chain, switching with probability 1 / REGIME_MEAN_BARS per bar."""
    start = rng.random() < 0.5  # drawn first: a shorter path is a prefix of a longer one
    switches = rng.random(n_bars) < 1.0 / REGIME_MEAN_BARS
    return (np.cumsum(switches) % 2 == 1) ^ start


def _events(rng: np.random.Generator, n_bars: int, every: float) -> np.ndarray:
    """-1/0/+1 per bar: an event with probability 1/every, its side a fair coin. Drawn whatever the
    strength, from the effect's own stream, so no other stream moves."""
    draws = rng.random((n_bars, 2))  # one row a bar: a shorter market is a prefix of a longer one
    return np.where(draws[:, 0] < 1.0 / every, np.where(draws[:, 1] < 0.5, -1.0, 1.0), 0.0)


def _generate(symbol, n_bars, seed, effect_strength, interaction_strength, motif_strength, trend_strength,
              regime_strength=0.0, absorption_strength=0.0, echo_strength=0.0):
    """Bars plus the per-bar planted drifts (in bar sds), which tests use to check the effects."""
    if not isinstance(symbol, str) or not symbol:
        raise ValueError("symbol must be a non-empty string")
    n_bars = int(n_bars)
    if n_bars < 1:
        raise ValueError("n_bars must be >= 1")
    if int(seed) < 0:
        raise ValueError("seed must be >= 0")

    (constants, shock_rng, volume_rng, activity_rng, trend_rng, gap_rng, up_rng, down_rng, regime_rng,
     absorption_rng, echo_rng) = _streams(symbol, seed)

    base_price = float(np.exp(constants.uniform(np.log(20.0), np.log(8000.0))))
    bar_vol = float(constants.uniform(1.2e-4, 2.5e-4))  # unconditional 1-bar sd of log returns
    base_volume = float(np.exp(constants.uniform(np.log(50.0), np.log(2000.0))))
    trend_start = float(constants.normal())

    timestamps, minute_of_session, session_open = _calendar(n_bars)
    vol_season, volume_season = _seasonality()
    vol_mult = vol_season[minute_of_session]
    regime_on = float(regime_strength) > 0
    volatile = _regime_path(regime_rng, n_bars) if regime_on else np.zeros(n_bars, dtype=bool)
    if regime_on:
        vol_mult = vol_mult * np.where(volatile, REGIME_VOL_MULT, 1.0)
    log_volume_level = np.log(base_volume) + volume_season[minute_of_session]

    shocks = shock_rng.standard_t(T_DF, n_bars) / math.sqrt(T_DF / (T_DF - 2.0))  # unit variance
    volume_noise = volume_rng.normal(0.0, 0.2, n_bars)
    activity_noise = activity_rng.normal(0.0, 0.05, n_bars)
    trend_noise = trend_rng.normal(0.0, 1.0, n_bars)
    gaps = np.where(session_open, gap_rng.normal(0.0, 3.0 * bar_vol, n_bars), 0.0)
    gaps[0] = 0.0
    wick_up = up_rng.exponential(0.35, n_bars)
    wick_down = down_rng.exponential(0.35, n_bars)

    scale = float(effect_strength)
    absorption_on, echo_on = scale * float(absorption_strength) > 0, scale * float(echo_strength) > 0
    absorbed = _events(absorption_rng, n_bars, ABSORPTION_EVERY)
    echoes = _events(echo_rng, n_bars, ECHO_EVERY) != 0
    absorption_drift = np.zeros(n_bars)
    if absorption_on:
        # Buyers absorbing (+1) leave a long lower wick, sellers (-1) a long upper one.
        wick_down = wick_down + np.where(absorbed > 0, ABSORPTION_WICK, 0.0)
        wick_up = wick_up + np.where(absorbed < 0, ABSORPTION_WICK, 0.0)
        log_volume_level = log_volume_level + ABSORPTION_VOLUME * (absorbed != 0)
        kernel = np.r_[np.zeros(ABSORPTION_DELAY), np.ones(ABSORPTION_BARS)]
        absorption_drift = np.convolve(absorbed, kernel)[:n_bars] * (ABSORPTION_DRIFT * scale * float(absorption_strength))
    if echo_on:
        log_volume_level = log_volume_level + ECHO_VOLUME * echoes
    else:
        echoes = np.zeros(n_bars, dtype=bool)
    log_close, log_volume, bar_sd, drifts = _simulate(
        shocks, vol_mult, log_volume_level, volume_noise, activity_noise, trend_noise, gaps, trend_start, volatile,
        bar_vol=bar_vol, log_price=math.log(base_price),
        interaction=INTERACTION_DRIFT * scale * float(interaction_strength),
        motif=MOTIF_DRIFT * scale * float(motif_strength),
        trend=TREND_DRIFT * scale * float(trend_strength),
        regime=REGIME_DRIFT * scale * float(regime_strength),
        absorption_drift=absorption_drift, echoes=echoes, echo=ECHO_DRIFT * scale * float(echo_strength),
    )

    close = np.exp(log_close)
    open_ = np.empty(n_bars)
    open_[0] = base_price
    open_[1:] = close[:-1]
    open_ *= np.exp(gaps)  # the session-open gap happens between the previous close and this open
    # Wicks beyond the body, proportional to the bar's own volatility.
    high = np.maximum(open_, close) * np.exp(wick_up * bar_sd)
    low = np.minimum(open_, close) * np.exp(-wick_down * bar_sd)
    volume = np.maximum(np.round(np.exp(log_volume)), 1.0)

    bars = pd.DataFrame(
        {
            "timestamp": timestamps,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        },
        columns=list(REQUIRED_COLUMNS),
    )
    return bars, drifts


def _calendar(n_bars: int) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Timestamps on the CME-like grid, each bar's minute within its session, and session-open flags."""
    bar = np.arange(n_bars)
    session, minute = np.divmod(bar, SESSION_BARS)
    week, weekday = np.divmod(session, SESSIONS_PER_WEEK)
    offset_minutes = week * 7 * 1440 + weekday * 1440 + minute
    timestamps = pd.Series(START + pd.to_timedelta(offset_minutes, unit="min")).astype("datetime64[ns, UTC]")
    return timestamps, minute, minute == 0


def _seasonality() -> tuple[np.ndarray, np.ndarray]:
    """Per-minute-of-session vol multiplier (mean square 1) and log-volume offset (mean 0).

    U-shaped around the session open and the US cash session, with bumps at the Europe open and
    the 13:30 UTC US data releases.
    """
    m = np.arange(SESSION_BARS, dtype=float)

    def after(start, decay):
        return np.where(m >= start, np.exp(-(m - start) / decay), 0.0)

    us_session = ((m >= US_OPEN_BAR) & (m < US_CLOSE_BAR)).astype(float)
    before_close = np.where(m < US_CLOSE_BAR, np.exp(-(US_CLOSE_BAR - m) / 30.0), 0.0)
    profile = (
        0.55
        + 0.6 * np.exp(-m / 20.0)
        + 0.3 * after(EUROPE_OPEN_BAR, 90.0)
        + 0.5 * after(US_DATA_BAR, 15.0)
        + 1.0 * after(US_OPEN_BAR, 60.0)
        + 0.45 * us_session
        + 0.4 * before_close
    )
    vol = profile / np.sqrt(np.mean(profile**2))
    log_volume = 1.6 * np.log(profile)
    return vol, log_volume - log_volume.mean()


def _simulate(shocks, vol_mult, log_volume_level, volume_noise, activity_noise, trend_noise, gaps, trend_start,
              volatile, *, bar_vol, log_price, interaction, motif, trend, regime, absorption_drift, echoes, echo):
    """The recursive part: GARCH variance, volume, the observable statistics and the planted drifts.

    A plain loop over Python floats (lists index faster than arrays) because each bar's drift
    depends on the path so far.
    """
    n = len(shocks)
    shocks_l, vol_l, level_l = shocks.tolist(), vol_mult.tolist(), log_volume_level.tolist()
    vnoise_l, anoise_l = volume_noise.tolist(), activity_noise.tolist()
    tnoise_l, gaps_l = trend_noise.tolist(), gaps.tolist()
    volatile_l = volatile.tolist()
    absorption_l = absorption_drift.tolist()
    echoes_l = echoes.tolist()
    out_echo = [0.0] * n
    out_close = [0.0] * n
    out_volume = [0.0] * n
    out_sd = [0.0] * n
    out_interaction, out_motif, out_trend, out_regime = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n

    h_bar = bar_vol * bar_vol
    omega = h_bar * (1.0 - GARCH_ALPHA - GARCH_BETA)
    clip2 = SHOCK_CLIP * SHOCK_CLIP
    phi = math.exp(-math.log(2.0) / TREND_HALF_LIFE)
    trend_innov = math.sqrt(1.0 - phi * phi)
    vol_alpha, price_alpha, volume_alpha, activity_alpha = EW_VOL_ALPHA, PRICE_EMA_ALPHA, VOLUME_EW_ALPHA, ACTIVITY_EMA_ALPHA
    sqrt, tanh = math.sqrt, math.tanh

    h = h_bar
    x = trend_start
    volume_ar = 0.0
    activity = 0.0
    logc = log_price
    ema_c = log_price
    ew_var = h_bar
    mean_v = level_l[0]
    var_v = 0.25
    ema_v = level_l[0]
    signal_a = 0.0
    motif_left, motif_sign = 0, 0.0
    up1 = up2 = up3 = down1 = down2 = down3 = False
    echo_left, echo_sign = 0, 0.0

    for t in range(n):
        z = shocks_l[t]
        sd = sqrt(h) * vol_l[t]
        drift_a = interaction * signal_a
        drift_c = trend * x
        drift_b = 0.0
        if motif_left > 0:
            drift_b = motif * motif_sign
            motif_left -= 1
        drift_d = regime * signal_a if volatile_l[t] else 0.0
        drift_f = 0.0
        if echo_left > 0:
            drift_f = echo_sign
            echo_left -= 1
        drift = drift_a + drift_b + drift_c + drift_d + absorption_l[t] + drift_f
        out_interaction[t], out_motif[t], out_trend[t], out_regime[t] = drift_a, drift_b, drift_c, drift_d
        out_echo[t] = drift_f
        r = gaps_l[t] + sd * (drift + z)
        logc += r
        out_close[t] = logc
        out_sd[t] = sd

        # Volume: intraday level, short- and long-lived noise, and more volume on bigger moves.
        volume_ar = 0.7 * volume_ar + vnoise_l[t]
        activity = 0.98 * activity + anoise_l[t]
        abs_z = z if z >= 0.0 else -z
        lv = level_l[t] + 0.35 * (abs_z if abs_z < SHOCK_CLIP else SHOCK_CLIP) + volume_ar + activity
        out_volume[t] = lv

        # Observable statistics, each computed from bars <= t.
        prev_vol = sqrt(ew_var)
        ew_var += vol_alpha * (r * r - ew_var)
        ema_c += price_alpha * (logc - ema_c)
        dv = lv - mean_v
        volume_sd = sqrt(var_v)
        volume_z = dv / volume_sd
        ema_v += activity_alpha * (lv - ema_v)
        activity_z = (ema_v - mean_v) / volume_sd
        mean_v += volume_alpha * dv
        var_v = (1.0 - volume_alpha) * (var_v + volume_alpha * dv * dv)
        price_z = (logc - ema_c) / (sqrt(ew_var) * 4.47213595499958)  # sqrt(20): 20-bar vol units

        # (a) extended price on high volume continues, on low volume reverts.
        signal_a = tanh(price_z * activity_z)

        # (b) three bars one way, then a high-volume bar the other way.
        move = r / prev_vol
        up, down = move > MOTIF_MOVE, move < -MOTIF_MOVE
        if volume_z > MOTIF_VOLUME_Z:
            if down and up1 and up2 and up3:
                motif_left, motif_sign = MOTIF_BARS, 1.0
            elif up and down1 and down2 and down3:
                motif_left, motif_sign = MOTIF_BARS, -1.0
        up3, up2, up1 = up2, up1, up
        down3, down2, down1 = down2, down1, down

        # (f) heavy volume now replays the way the same hour went a session ago.
        if echoes_l[t] and t >= ECHO_FAR:
            echo_left = ECHO_BARS
            echo_sign = echo if out_close[t - ECHO_NEAR] > out_close[t - ECHO_FAR] else -echo

        # (c) slow latent trend.
        x = phi * x + trend_innov * tnoise_l[t]

        z2 = z * z
        h = omega + h * (GARCH_BETA + GARCH_ALPHA * (z2 if z2 < clip2 else clip2))

    drifts = {"interaction": np.array(out_interaction), "motif": np.array(out_motif), "trend": np.array(out_trend),
              "regime": np.array(out_regime), "absorption": absorption_drift.copy(), "echo": np.array(out_echo)}
    return np.array(out_close), np.array(out_volume), np.array(out_sd), drifts


def describe_generator() -> str:
    """A short, honest markdown description of the synthetic market."""
    return _DESCRIPTION


_DESCRIPTION = f"""# Synthetic market

`hetstack.synthetic.generate_market(symbol, n_bars, seed)` produces 1-minute OHLCV bars when no
user data is given. The output is reproducible byte for byte for the same symbol, seed and effect
strengths, and a shorter market is an exact prefix of a longer one. The symbol name enters the
seed through SHA-256, so each symbol gets its own path, base price (20 to 8000), 1-bar volatility
and volume level.

## Calendar
CME-like near-24h sessions: bars from 23:00 UTC to 21:59 UTC the next day, a daily break
22:00-23:00 UTC, no bars from Friday 22:00 UTC to Sunday 23:00 UTC. The first bar is
{START:%Y-%m-%d %H:%M} UTC (a Sunday). There are no holidays, no daylight-saving shifts and no
missing minutes inside a session. A session's first open gaps from the previous close by about
3 bar sds.

## Price and volume
- Log returns: GARCH(1,1) variance (alpha {GARCH_ALPHA}, beta {GARCH_BETA}) times an intraday seasonal
  multiplier, with Student-t shocks (df {T_DF:g}, scaled to unit variance), so volatility clusters
  and 1-bar returns have heavy tails (kurtosis typically 20-50). Unconditional 1-bar sd is 1.2-2.5 bp
  depending on the symbol.
- Intraday seasonality of volatility and volume: a burst at the session open, a bump at the Europe
  open (08:00 UTC), a spike at 13:30 UTC (US data), a U-shape around the US cash session
  (14:30-21:00 UTC) and quiet overnight hours. Volume is more seasonal than volatility.
- Volume: log-normal around the seasonal level, with short-lived (AR 0.7) and slower (AR 0.98,
  the "activity" level) noise, and higher on bars with large absolute shocks. Whole contracts.
- OHLC: open equals the previous close except at session opens; high and low add exponential wicks
  (mean 0.35 bar sd) beyond the body. Prices are continuous (no tick grid).

## Two markets
`synthetic.market` names a set of effect strengths (`MARKETS`); `synthetic.effects` overrides single
ones and `synthetic.effect_strength` scales them all (0: a pure, unpredictable market).
- **heterogeneous** (the default): interaction, absorption and echo at strength 1, one effect per
  view of the data, each needing information that the other views lack (below). docs/benchmarks.md,
  "The heterogeneous market", says which view finds what, and what the stack gains from all three.
- **classic**: interaction, motif and trend. The market of the figures measured before 2026-12-06
  (`--configfile config/classic.yaml` runs it with their bases), and `generate_market`'s own
  defaults; byte for byte the market generated before any later effect existed (a test pins its
  digest).

## Planted effects
Each adds drift, in units of the bar's own sd, to later bars, computed from bars up to the current
one only (or from exogenous events drawn from their own random stream). In the workflow's config
they are `synthetic.effects: {{interaction, motif, trend, regime, absorption, echo}}`; in
`generate_market` the `*_strength` arguments. The classic market's effects, and which family each
was built for:

| effect | what it needs to be seen | family it is built for |
|---|---|---|
| interaction | two current indicator values (price extension, volume activity) together | tabular (2D rows) |
| motif | the order of the last four bars and the volume of the fourth | sequence (3D windows) |
| trend | returns summed over hours; per-bar drift is 1/30 of a bar sd | multi-resolution (4D windows) |
| regime (off by default) | the interaction, and which volatility state the market is in | a regime-aware meta-learner |

What the classic bases (catboost, tcn, patchtst) find (docs/benchmarks.md, effect attribution): the interaction best with the
tabular bases, as built; the motif also best with the tabular bases, because the indicator row holds
the last bars' return and volume z-scores, so a four-bar pattern needs no window; the trend with no
model at h = 20. Even an oracle given the true drift of the next 20 bars scores a test skill of only
+0.001 there (20 bars of drift are about 0.6 bar sd against barriers near 4.5): at the default
strength the trend shows at longer horizons (about +0.05 at h = 120).

1. **Interaction (current indicator values).** Signal `tanh(price_z * activity_z)`: price_z is log
   close minus its 20-bar EMA in 20-bar vol units; activity_z is the 5-bar EMA of log volume
   minus its 60-bar EW mean, in EW sds. An extended price on rising activity continues; on fading
   activity it reverts. The next bar's drift is {INTERACTION_DRIFT} bar sds per unit of signal
   (about 0.1 bar sd on average).
2. **Temporal motif (sequence).** Three bars moving more than {MOTIF_MOVE} EW vols one way, then a
   bar moving the other way on a volume z-score above {MOTIF_VOLUME_Z:g}: drift of {MOTIF_DRIFT} bar
   sds per bar back in the first direction for the next {MOTIF_BARS} bars. It fires on about 1.4%
   of bars, and about a quarter of bars are under its drift.
3. **Slow trend (higher timeframes).** A latent Ornstein-Uhlenbeck factor with unit variance and a
   half-life of {TREND_HALF_LIFE:g} bars (about 1.5 sessions) adds {TREND_DRIFT} bar sds of drift per
   unit: invisible in single bars, visible in returns over hours.
4. **Regime (off unless `regime_strength` > 0, `synthetic.effects.regime`).** A latent two-state
   volatility regime that switches with probability 1/{REGIME_MEAN_BARS:g} a bar (spells of about
   four sessions); the volatile state multiplies every bar's sd by {REGIME_VOL_MULT:g}, and only there
   does the interaction signal of (1) move the next bar, by {REGIME_DRIFT} bar sds per unit. The
   bases' inputs measure volatility over at most 240 bars, where GARCH clustering and the intraday
   seasonality blur the state; `meta_regime`'s features read a day of bars. `bench/regime.py` runs
   this market with the plain interaction effect off. With strength 0 there is no regime at all, and
   the market is the one generated before this effect existed.

Measured with default strengths on 40k bars (LightGBM on `hetstack.features`, triple-barrier
labels, horizon 20 bars, barriers at 1.0 x 60-bar vol x sqrt(20), last 30% held out): accuracy
0.50-0.54 where the majority class is 0.45-0.48, and the sign of non-zero labels is right 54-62%
of the time. With the effects off, accuracy is at or below the majority class. Alone, each effect
gives a small lift; the slow trend is barely visible to a model that sees one row of 1-minute
features.

The heterogeneous market's two other effects (off in the classic market; with strength 0 they
draw nothing that reaches the bars). Each is a response to an exogenous event that every view
sees; what differs is the information that says which way the response goes:

| effect | which way, from | row (180 indicators) | window (32 rows) | multi-resolution (4D) |
|---|---|---|---|---|
| absorption | the wick side of a heavy-volume bar 10-40 bars back | candles for the last 3 bars only | candles of bars up to 34 back | raw 1-bar bars up to 23 back |
| echo | the move of the same hour one session back | no window beyond 240 bars | no | hourly bars a day back |

5. **Absorption (window).** On about one bar in {ABSORPTION_EVERY:g}, heavy volume (log volume
   +{ABSORPTION_VOLUME:g}) meets one long wick ({ABSORPTION_WICK:g} bar sds beyond the usual ones): the
   side where a large order was absorbed. {ABSORPTION_DELAY} bars later, price drifts away from that
   side by {ABSORPTION_DRIFT} bar sds a bar for {ABSORPTION_BARS} bars. A label of h = 20 bars is
   moved by events 10 to 38 bars back; the row keeps candle shapes for the last 3 bars and volume
   z-scores for 10, so it sees the events but not their side.
6. **Echo (long history).** On about one bar in {ECHO_EVERY:g}, heavy volume (+{ECHO_VOLUME:g}) on a
   bar whose own move is ordinary; for the next {ECHO_BARS} bars price drifts by {ECHO_DRIFT} bar sds a
   bar the way the market went in the same hour one session earlier ({ECHO_NEAR} to {ECHO_FAR} bars
   back). Every view sees the heavy bar; only the multi-resolution window's hourly bars (24 of them,
   a day) reach that hour. The row's longest windows (240 bars, plus EMA tails) recover a 720-bar
   return with R² 0.07 and a 1,440-bar one not at all. Successive echoes look at overlapping hours,
   so their directions are correlated, which a row can partly read from the last echo's move.

The effects are not free of side effects: with defaults, 1-bar returns have a lag-1
autocorrelation of +0.06 to +0.10 (about 0 with the effects off) and daily volatility is roughly twice
what the GARCH part alone gives.

## What it is not
No news or event jumps beyond the t tails, no order book or microstructure (bid-ask bounce, tick
grid, queue effects), no cross-symbol correlation, no holidays or daylight-saving time, and the
parameters are fixed: there are no regime changes beyond volatility clustering, unless the regime
effect is on. Good results on it
show that a pipeline finds planted structure without leaking, not that a strategy works on real
markets.
"""
