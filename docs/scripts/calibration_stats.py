# Mean, P50, P95, min and max relay latency per message size from a relay-calibration
# deliveries.csv, excluding the first message of each run (as the published Shadow analysis
# does, for TCP slow start). Usage: python3 docs/scripts/calibration_stats.py results/relay-calibration/deliveries.csv
import csv, sys, statistics
rows = {}
with open(sys.argv[1]) as f:
    for r in csv.DictReader(f):
        if r["delivered"] != "true" or r["message_id"] == "0":
            continue
        rows.setdefault(r["sweep_point"].split("=")[-1], []).append(float(r["latency_ms"]))
for point, lat in sorted(rows.items(), key=lambda kv: int(kv[0].rstrip("KB"))):
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print(f"| {point} | {len(lat)} | {statistics.mean(lat):.0f} | {q(0.5):.0f} | {q(0.95):.0f} | {lat[0]:.0f} | {lat[-1]:.0f} |")
