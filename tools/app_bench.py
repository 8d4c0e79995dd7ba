#!/usr/bin/env python3
"""The desktop app's start-up time and idle memory, beside an empty Tauri 2 window (the yardstick),
measured the same way in the same run.

- Start-up: from spawning the process to the app's first painted frame (the UI reports it two
  animation frames after its first render; the empty window when its page has loaded).
- Idle memory: 5 s after that, the total PSS (/proc/<pid>/smaps_rollup) of the process and every
  process it started (WebKit's web and network processes).

Usage (inside a display and a session bus; scripts/app-bench sets both up):
    app_bench.py APP EMPTY_WINDOW [--runs 5]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def children(pid):
    """Every descendant of pid."""
    parent_of = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parent_of[int(entry)] = int(fields[1])
            except OSError:
                pass
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent_of.items() if pp == p]
        found += kids
        frontier += kids
    return found


def pss_kib(pid):
    total = 0
    for p in [pid] + children(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure(cmd, env):
    started = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        deadline = started + 60
        painted = None
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("painted "):
                painted = int(line.split()[1]) / 1000.0
                break
        if painted is None:
            raise SystemExit(f"{cmd[0]} never reported its first paint")
        time.sleep(5)
        return painted - started, pss_kib(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("app")
    ap.add_argument("empty_window")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    env = dict(os.environ, ABDM_DESK_BENCH="1", ABDM_DESK_NO_VIEWER="1")
    # Each row's switches are set here, not inherited from the shell.
    for inherited in ("WEBKIT_DISABLE_COMPOSITING_MODE", "ABDM_DESK_GPU_COMPOSITING"):
        env.pop(inherited, None)
    # The app paints without WebKit's GPU compositing (src-tauri's main); the empty window is
    # measured both with WebKit's defaults and with that same switch, like for like.
    like_for_like = dict(env, WEBKIT_DISABLE_COMPOSITING_MODE="1")
    rows = {"app": [], "empty": [], "empty-nocomp": []}
    for _ in range(args.runs):
        # Alternate, so that all see the same machine load; the app gets a new desk each time.
        with tempfile.TemporaryDirectory() as data:
            rows["app"].append(measure([args.app, "--data", data], env))
        rows["empty"].append(measure([args.empty_window], env))
        rows["empty-nocomp"].append(measure([args.empty_window], like_for_like))
    for name, runs in rows.items():
        starts = ", ".join(f"{s:.2f}" for s, _ in runs)
        pss = ", ".join(f"{m / 1024:.0f}" for _, m in runs)
        print(f"{name:12} first paint s: {starts} | idle PSS MiB: {pss}")
    app_start = statistics.median(s for s, _ in rows["app"])
    app_pss = statistics.median(m for _, m in rows["app"])
    print(f"median: app first paint {app_start:.2f} s (target < 1.5 s); idle PSS app {app_pss / 1024:.0f} MiB")
    for name in ("empty", "empty-nocomp"):
        pss = statistics.median(m for _, m in rows[name])
        worst = min(m for _, m in rows[name])
        print(f"  vs {name}: {pss / 1024:.0f} MiB = {app_pss / pss:.2f}x "
              f"(against its lowest run {app_pss / worst:.2f}x; target <= 1.25x)")


if __name__ == "__main__":
    sys.exit(main())
