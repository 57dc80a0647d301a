#!/usr/bin/env python3
"""Voice messages: how long the disguise of one recording takes, and how much memory.

For each length (default 1 and 10 minutes, the default limit) a voice-like recording (a
glottal pulse train through vowel formants, its pitch stepping between 100 and 140 Hz) is
encoded as a phone would store it (m4a/AAC at 44.1 kHz by default), then a fresh child process
per length reads it from a pipe and runs `prepare_voice` on the bytes: decode, disguise, Opus encode, all in memory. It
prints the wall and CPU time of each stage and of the whole, and the peak memory: the child's
peak resident set above what it held before the pipeline started (NumPy arrays and FFmpeg's
own buffers alike). A benchmark, not a test.

    .venv/bin/python bench/voice.py                       # 1 and 10 minutes, m4a
    .venv/bin/python bench/voice.py --minutes 1 5 --kind mp3
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import voice  # noqa: E402

CHILD = """
import json, sys, time
from app.services.intake.voice import WORK_RATE, VoiceLimits, codec, disguise, prepare_voice

minutes = float(sys.argv[1])
rate = WORK_RATE
original = sys.stdin.buffer.read()

def memory_kib(field):
    # From /proc: ru_maxrss would include the parent's peak, carried over by fork and exec.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

limits = VoiceLimits(max_seconds=int(minutes * 60) + 60, max_bytes=len(original) + 1)
before = memory_kib("VmRSS")
times = {}
wall, cpu = time.perf_counter(), time.process_time()
decoded = codec.decode(original, rate=rate, max_seconds=limits.max_seconds)
times["decode"] = (time.perf_counter() - wall, time.process_time() - cpu)
wall, cpu = time.perf_counter(), time.process_time()
shifted = disguise(decoded.samples, rate, semitones=limits.pitch_semitones,
                   formant_factor=limits.formant_factor)
times["disguise"] = (time.perf_counter() - wall, time.process_time() - cpu)
wall, cpu = time.perf_counter(), time.process_time()
stored = codec.encode_opus(shifted, rate)
times["encode"] = (time.perf_counter() - wall, time.process_time() - cpu)
del decoded, shifted, stored
wall, cpu = time.perf_counter(), time.process_time()
stored = prepare_voice(original, name="bench", limits=limits)
times["whole"] = (time.perf_counter() - wall, time.process_time() - cpu)
peak = memory_kib("VmHWM")
print(json.dumps({"input_bytes": len(original), "output_bytes": len(stored), "times": times,
                  "rss_above_start_mib": max(0, peak - before) / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--kind", default="m4a", help="m4a, mp3, ogg, webm, wav or amr")
    options = parser.parse_args()
    print(f"{'length':>8} {'input':>9} {'opus':>8} {'decode':>13} {'disguise':>13} "
          f"{'encode':>13} {'whole':>13} {'RSS peak':>9}")
    piece = np.concatenate([voice.vowel(f0, 1.0) for f0 in (100, 115, 130, 140, 125, 110)])
    for minutes in options.minutes:
        original = voice.encode(np.resize(piece, int(minutes * 60 * 16_000)), 16_000,
                                options.kind, voice.TAGS)
        # The recording reaches the child through a pipe: its memory peak is the pipeline's.
        result = subprocess.run([sys.executable, "-c", CHILD, str(minutes)], input=original,
                                cwd=ROOT, capture_output=True, check=True,
                                env={"PYTHONPATH": str(ROOT), "PATH": ""})
        report = json.loads(result.stdout.decode().strip().splitlines()[-1])
        stages = " ".join(f"{wall:6.2f}s/{cpu:5.2f}" for wall, cpu in
                          (report["times"][s] for s in ("decode", "disguise", "encode",
                                                        "whole")))
        print(f"{minutes:6.1f}mn {report['input_bytes'] / 2**20:7.2f}MB "
              f"{report['output_bytes'] / 2**20:6.2f}MB {stages} "
              f"{report['rss_above_start_mib']:7.0f}MB")
    print("times: wall / CPU seconds; RSS peak: above the child's memory before the pipeline")


if __name__ == "__main__":
    main()
