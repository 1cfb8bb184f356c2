#!/usr/bin/env python3
"""Generates the bundled GOOG tick series, host/data/goog.jsonl and goog.csv.

The series is synthetic: no real intraday data is available offline, so a
seeded random walk stands in for it. It has one tick per minute of US
regular trading hours (09:30-15:59 America/New_York) on five trading days,
2024-03-06 to 2024-03-12, which straddle the start of daylight saving time
on 2024-03-10: the sessions open at 14:30 UTC before it and 13:30 UTC after.
`ts` is UTC epoch milliseconds.

The walk is quiet on purpose, so that what a filter should act on stands
out and every filter has work:

- spike: isolated one-tick spikes 3-6% off the walk, plus one pair of
  consecutive spike ticks; the walk continues beneath them, so the tick
  after a spike is back to normal;
- threshold: about 12% of the ticks trade below 1,000,000 shares, some just
  below it, and exactly one tick trades exactly 1,000,000, which a
  `volume < 1,000,000` rule must keep;
- moving average: every tick, plus late ticks that are written after a
  newer tick, which a windowed rule drops as out of order.

Both files hold the same ticks in the same order. Spikes, late ticks and
the 1,000,000 tick trade normal volume, and late ticks carry walk prices,
so each filter's share of the series can be counted on its own.

The generator is seeded, so running it again rewrites both files byte for
byte (checked with Python 3.11):

    python3 scripts/gen-goog-ticks.py

It prints a summary of what it wrote.
"""

import csv
import json
import math
import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

SYMBOL = "GOOG"

# The seed is the date of the daylight saving change the series straddles.
SEED = 20240310

NEW_YORK = ZoneInfo("America/New_York")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

TRADING_DAYS = [
    date(2024, 3, 6),
    date(2024, 3, 7),
    date(2024, 3, 8),
    date(2024, 3, 11),
    date(2024, 3, 12),
]
OPEN = time(9, 30)

# 09:30 to 15:59 inclusive; the closing auction at 16:00 is not a minute tick.
SESSION_MINUTES = 390

START_PRICE = 135.00

# Per-minute log-return: a standard deviation of 0.06% gives about 0.2% over
# ten minutes, so a 2% spike rule never fires on the walk itself. The drift
# adds about half a percent over the five days.
RETURN_SIGMA = 0.0006
RETURN_DRIFT = 0.000002

# A spike moves one tick this far off the walk, up or down.
SPIKE_MIN = 0.03
SPIKE_MAX = 0.06
ISOLATED_SPIKES = 12

# The sessions (indices into TRADING_DAYS) of the spike pair, the late ticks
# and the 1,000,000-share tick; isolated spikes go round all five.
PAIR_DAY = 2
LATE_DAYS = [0, 3, 4]
EXACT_DAY = 3

# How many minutes each late tick is written behind its successors: the
# line before it is this much newer.
LATE_LAGS = [1, 2, 3]

# Special ticks sit this many minutes into a session or more, and as far
# from its close, so that a trailing window has history before them and the
# ticks a late tick is written after fall in the same session.
SESSION_MARGIN = 30

# Special ticks sit at least this many minutes apart, so that a 10-minute
# window never holds two of them.
MIN_SPACING = 30

# Volume is log-normal around a median of 1.6 million. A normal tick is
# redrawn until it reaches the threshold, so that only the ticks chosen as
# low volume fall below it.
VOLUME_MEDIAN = 1_600_000
VOLUME_SIGMA = 0.3
VOLUME_THRESHOLD = 1_000_000

# Low-volume ticks: a share of the series, some just below the threshold and
# the rest from a quieter log-normal.
LOW_VOLUME_SHARE = 0.12
JUST_BELOW = 40
JUST_BELOW_MIN = 950_000
LOW_VOLUME_MEDIAN = 650_000
LOW_VOLUME_SIGMA = 0.25

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "host" / "data"
JSONL_PATH = DATA_DIR / "goog.jsonl"
CSV_PATH = DATA_DIR / "goog.csv"


def minute_timestamps():
    """The UTC epoch milliseconds of every session minute, in order."""
    stamps = []
    for day in TRADING_DAYS:
        open_at = datetime.combine(day, OPEN, tzinfo=NEW_YORK)
        for minute in range(SESSION_MINUTES):
            at = open_at + timedelta(minutes=minute)
            stamps.append((at - EPOCH) // timedelta(milliseconds=1))
    return stamps


def random_walk(rng, count):
    """A geometric random walk of `count` prices from START_PRICE, unrounded."""
    prices = [START_PRICE]
    log_price = math.log(START_PRICE)
    for _ in range(count - 1):
        log_price += rng.normalvariate(RETURN_DRIFT, RETURN_SIGMA)
        prices.append(math.exp(log_price))
    return prices


def place(rng, taken, day, width=1):
    """Picks the first of `width` consecutive ticks for a special event.

    The ticks lie in the session of TRADING_DAYS[day], SESSION_MARGIN
    minutes from its open and close, and MIN_SPACING minutes from every tick
    in `taken`; they are added to `taken`.
    """
    while True:
        minute = rng.randrange(
            SESSION_MARGIN, SESSION_MINUTES - SESSION_MARGIN - width + 1
        )
        first = day * SESSION_MINUTES + minute
        ticks = range(first, first + width)
        if all(abs(i - t) >= MIN_SPACING for i in ticks for t in taken):
            taken.update(ticks)
            return first


def spike(rng, price, up):
    """`price` moved 3-6% up, or down."""
    size = rng.uniform(SPIKE_MIN, SPIKE_MAX)
    return price * (1 + size if up else 1 - size)


def lognormal_volume(rng, median, sigma, low, high):
    """A log-normal volume around `median`, redrawn until in [low, high]."""
    while True:
        volume = round(rng.lognormvariate(math.log(median), sigma))
        if low <= volume <= high:
            return volume


def volumes(rng, count, low_volume, just_below, exact):
    """A volume for each tick: `low_volume` ticks below the threshold (those
    in `just_below` only just), the tick `exact` at it, the rest above it."""
    result = []
    for i in range(count):
        if i == exact:
            volume = VOLUME_THRESHOLD
        elif i in just_below:
            volume = rng.randint(JUST_BELOW_MIN, VOLUME_THRESHOLD - 1)
        elif i in low_volume:
            volume = lognormal_volume(
                rng, LOW_VOLUME_MEDIAN, LOW_VOLUME_SIGMA, 1, JUST_BELOW_MIN - 1
            )
        else:
            volume = lognormal_volume(
                rng, VOLUME_MEDIAN, VOLUME_SIGMA, VOLUME_THRESHOLD + 1, math.inf
            )
        result.append(volume)
    return result


def write_files(rows):
    """Writes `rows` of (symbol, ts, price, volume) as JSON lines and CSV."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with JSONL_PATH.open("w", encoding="utf-8", newline="\n") as out:
        for symbol, ts, price, volume in rows:
            tick = {"symbol": symbol, "ts": ts, "price": price, "volume": volume}
            out.write(json.dumps(tick, separators=(",", ":")) + "\n")
    with CSV_PATH.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["symbol", "ts", "price", "volume"])
        writer.writerows(rows)


def local_time(ts):
    """`ts` as New York wall-clock time with its zone, for the summary."""
    at = EPOCH + timedelta(milliseconds=ts)
    return at.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z")


def main():
    rng = random.Random(SEED)
    stamps = minute_timestamps()
    count = len(stamps)
    walk = random_walk(rng, count)

    # Place the special ticks, each well clear of the others and spread over
    # the days on both sides of the clock change.
    taken = set()
    late = {
        place(rng, taken, day, width=lag + 1): lag
        for day, lag in zip(LATE_DAYS, LATE_LAGS)
    }
    pair = place(rng, taken, PAIR_DAY, width=2)
    isolated = [
        place(rng, taken, k % len(TRADING_DAYS)) for k in range(ISOLATED_SPIKES)
    ]
    exact = place(rng, taken, EXACT_DAY)
    spikes = sorted(isolated + [pair, pair + 1])

    # Prices: the walk, with the spike ticks moved off it. The pair moves the
    # same way, as one burst of bad prints would.
    prices = list(walk)
    for i in isolated:
        prices[i] = spike(rng, walk[i], up=rng.random() < 0.5)
    up = rng.random() < 0.5
    for i in (pair, pair + 1):
        prices[i] = spike(rng, walk[i], up)

    # Volumes: low-volume ticks drawn from the ordinary ticks only.
    ordinary = [i for i in range(count) if i not in taken]
    low_volume = set(rng.sample(ordinary, round(count * LOW_VOLUME_SHARE)))
    just_below = set(rng.sample(sorted(low_volume), JUST_BELOW))
    volume = volumes(rng, count, low_volume, just_below, exact)

    # Write order: a late tick goes after the `lag` ticks that follow it.
    order = sorted(range(count), key=lambda i: i + late[i] + 0.5 if i in late else i)
    rows = [(SYMBOL, stamps[i], round(prices[i], 2), volume[i]) for i in order]
    write_files(rows)

    # Summarise what was written, counting from the rows where they can tell.
    newest = None
    behind = []
    for _, ts, _, _ in rows:
        if newest is not None and ts < newest:
            behind.append((ts, (newest - ts) // 60_000))
        newest = ts if newest is None else max(newest, ts)
    below = sum(1 for row in rows if row[3] < VOLUME_THRESHOLD)
    near = sum(1 for row in rows if JUST_BELOW_MIN <= row[3] < VOLUME_THRESHOLD)
    at_threshold = [row[1] for row in rows if row[3] == VOLUME_THRESHOLD]
    ten_minute = max(abs(walk[i + 10] / walk[i] - 1) for i in range(count - 10))
    first_ts, last_ts = rows[0][1], rows[-1][1]

    print(f"wrote {JSONL_PATH.relative_to(REPO)} and {CSV_PATH.relative_to(REPO)}")
    print(f"ticks:         {len(rows)} ({len(TRADING_DAYS)} sessions of "
          f"{SESSION_MINUTES} minutes)")
    print(f"first tick:    ts {first_ts} ({local_time(first_ts)})")
    print(f"last tick:     ts {last_ts} ({local_time(last_ts)})")
    print(f"spikes:        {len(spikes)} ticks {SPIKE_MIN:.0%}-{SPIKE_MAX:.0%} "
          f"off the walk ({len(isolated)} isolated, 1 consecutive pair")
    print(f"               at {local_time(stamps[pair])})")
    print(f"walk:          largest 10-minute move {ten_minute:.2%}")
    print(f"low volume:    {below} ticks below {VOLUME_THRESHOLD:,} "
          f"({below / len(rows):.1%}), {near} of them {JUST_BELOW_MIN:,} "
          f"or more")
    print(f"at threshold:  {len(at_threshold)} tick with volume exactly "
          f"{VOLUME_THRESHOLD:,} ({local_time(at_threshold[0])})")
    print(f"late ticks:    {len(behind)}, each written after newer ticks:")
    for ts, lag in behind:
        print(f"               {local_time(ts)}, {lag} min behind the line before")


if __name__ == "__main__":
    main()
