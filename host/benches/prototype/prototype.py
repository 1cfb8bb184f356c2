"""The prototype's design, kept as the baseline of the Kafka benchmark.

Before tickhost, the pipeline was one Python process: a confluent-kafka
consumer and producer, ticks as JSON, and the three rules as plain Python
functions. This file is that design, written as well as the design allows
(batched consumes, one dict per symbol, deques for the windows), so that the
benchmark in host/benches/kafka.rs measures tickhost against the prototype
rather than against a strawman. It is not used by tickhost itself.

The rules are those of the shipped chain, host/tickhost.toml:

- spike: drop a tick whose price moved more than 2% from the reference, the
  oldest kept price of its symbol inside the trailing 10 minutes;
- threshold (slot "volume"): drop a tick whose volume is below 1,000,000;
- moving-average: annotate every tick that reaches it with `avg`, the mean
  price of its symbol's ticks that reached it inside the trailing 10 minutes.

A window is (t - 10m, t]: a tick exactly 10 minutes old no longer counts, as
in the plugins. The prototype has no out-of-order rule; the benchmark's
ticks are in order per symbol, so both judge every tick alike, which the
benchmark checks by comparing the kept and dropped counts.

Delivery is at least once, as in tickhost: a batch's offsets are committed
only after every output of the batch is acknowledged.

Run by the benchmark as

    python3 prototype.py --brokers HOST:PORT --input TOPIC --group GROUP \
        --processed TOPIC --rejected TOPIC --count N

It stops after N messages and prints one JSON object on stdout: the counts,
the seconds from the first consumed message to the last acknowledged
output, and its resident memory (VmRSS and its peak VmHWM, in KiB).
"""

import argparse
import json
import sys
import time
from collections import deque

try:
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
except ImportError:
    sys.exit("the prototype needs confluent-kafka: pip install confluent-kafka")

# The shipped chain's parameters (host/tickhost.toml).
MAX_CHANGE_PCT = 2.0
WINDOW_MS = 10 * 60 * 1000
MIN_VOLUME = 1_000_000

# The reasons, worded as the plugins word them.
WINDOW_TEXT = "10m"
MIN_VOLUME_TEXT = f"{MIN_VOLUME:,}"

# Messages per consume, as tickhost's batch-max.
BATCH_MAX = 1024

# How long a consume waits for more messages once it has one, in seconds
# (tickhost's batch-wait); overridden by --batch-wait-ms.
BATCH_WAIT_S = 0.002

# How long the consumer waits with nothing consumed before giving up: the
# benchmark pre-produces its input, so this only ends a run that went wrong.
IDLE_TIMEOUT_S = 120.0


# Per symbol: the kept (ts, price) inside the window, oldest first.
spike_windows = {}

# Per symbol: [deque of (ts, price), running sum of the prices].
average_windows = {}


def spike(symbol, ts, price):
    """The reason to drop the tick, or None to keep it."""
    window = spike_windows.get(symbol)
    if window is None:
        window = spike_windows[symbol] = deque()
    while window and ts - window[0][0] >= WINDOW_MS:
        window.popleft()
    if window:
        reference = window[0][1]
        change = (price - reference) / reference * 100.0
        if abs(change) > MAX_CHANGE_PCT:
            return (
                f"price change of {change:+.2f}% over the last {WINDOW_TEXT} "
                f"exceeds {MAX_CHANGE_PCT:g}%"
            )
    window.append((ts, price))
    return None


def threshold(volume):
    """The reason to drop the tick, or None to keep it."""
    if volume < MIN_VOLUME:
        return f"volume {volume:,} below {MIN_VOLUME_TEXT}"
    return None


def moving_average(symbol, ts, price):
    """The mean price of the symbol's window, this tick included."""
    state = average_windows.get(symbol)
    if state is None:
        state = average_windows[symbol] = [deque(), 0.0]
    window = state[0]
    while window and ts - window[0][0] >= WINDOW_MS:
        state[1] -= window.popleft()[1]
    if not window:
        state[1] = 0.0
    window.append((ts, price))
    state[1] += price
    return state[1] / len(window)


def judge(tick):
    """The output record of one tick and whether it was kept."""
    symbol, ts, price, volume = tick["symbol"], tick["ts"], tick["price"], tick["volume"]
    reason = spike(symbol, ts, price)
    if reason is not None:
        tick.update(verdict="dropped", slot="spike", plugin="spike", reason=reason)
        return tick, False
    reason = threshold(volume)
    if reason is not None:
        tick.update(verdict="dropped", slot="volume", plugin="threshold", reason=reason)
        return tick, False
    tick["annotations"] = {"avg": moving_average(symbol, ts, price)}
    tick["verdict"] = "kept"
    return tick, True


def memory_kib():
    """(VmRSS, VmHWM) of this process, in KiB."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields.get("VmRSS"), fields.get("VmHWM")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--processed", required=True)
    parser.add_argument("--rejected", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--batch-wait-ms", type=float, default=BATCH_WAIT_S * 1e3)
    parser.add_argument("--fetch-wait-ms", type=int, default=10)
    parser.add_argument("--fetch-queue-backoff-ms", type=int, default=1000)
    args = parser.parse_args()

    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": args.fetch_wait_ms,
            "fetch.queue.backoff.ms": args.fetch_queue_backoff_ms,
        }
    )
    # The producer settings of tickhost's (host/src/kafka/client.rs).
    producer = Producer(
        {
            "bootstrap.servers": args.brokers,
            "enable.idempotence": True,
            "message.timeout.ms": 0,
            "linger.ms": 1,
            "queue.buffering.max.messages": 1_000_000,
        }
    )
    failures = []

    def delivered(error, _message):
        if error is not None:
            failures.append(error)

    consumer.subscribe([args.input])

    batch_wait = args.batch_wait_ms / 1e3
    consumed = kept = dropped = 0
    first = None
    idle_since = time.monotonic()
    dumps, loads = json.dumps, json.loads
    while consumed < args.count:
        messages = consumer.consume(BATCH_MAX, batch_wait)
        if not messages:
            if time.monotonic() - idle_since > IDLE_TIMEOUT_S:
                sys.exit(f"nothing to consume for {IDLE_TIMEOUT_S:.0f}s")
            continue
        if first is None:
            first = time.perf_counter()
        for message in messages:
            if message.error() is not None:
                raise KafkaException(message.error())
            record, is_kept = judge(loads(message.value()))
            topic = args.processed if is_kept else args.rejected
            if is_kept:
                kept += 1
            else:
                dropped += 1
            payload = dumps(record, separators=(",", ":"))
            while True:
                try:
                    producer.produce(topic, payload, message.key(), on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.001)
        consumed += len(messages)

        # At least once: every output acknowledged, then the offsets.
        producer.flush()
        if failures:
            sys.exit(f"the broker refused an output: {failures[0]}")
        consumer.commit(asynchronous=True)
        idle_since = time.monotonic()
    took = time.perf_counter() - first

    try:
        consumer.commit(asynchronous=False)
    except KafkaException as e:
        # Nothing consumed since the last commit: nothing to commit.
        if e.args[0].code() != KafkaError._NO_OFFSET:
            raise
    consumer.close()
    rss, hwm = memory_kib()
    print(
        json.dumps(
            {
                "consumed": consumed,
                "kept": kept,
                "dropped": dropped,
                "seconds": took,
                "rss_kib": rss,
                "hwm_kib": hwm,
            }
        )
    )


if __name__ == "__main__":
    main()
