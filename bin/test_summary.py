"""Combine the pytest (JUnit XML) and Odoo (log) results into one summary line.

Odoo only logs its counts, and silently skips browser tours when Chromium or
websocket-client is missing: every skipped test is therefore counted as a failure.
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ET

ODOO_TOTAL = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
ODOO_SKIP = re.compile(r"\bskipped \S+ : ")
LOG_LEVEL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (ERROR|CRITICAL) ")


def junit_counts(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return 0, 1, 0, ["pytest produced no report"]
    suites = [root] if root.tag == "testsuite" else list(root)
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped, []


def odoo_counts(path, rc):
    notes = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    totals = ODOO_TOTAL.findall(text)
    skipped = len(ODOO_SKIP.findall(text))
    error_lines = [line for line in text.splitlines() if LOG_LEVEL.match(line)]
    if not totals:
        return 0, 1, skipped, ["Odoo ended without a test report (install failed?)"]
    failed, errors, run = (int(x) for x in totals[-1])
    bad = failed + errors
    if error_lines and not bad:
        bad = 1
        notes.append(f"{len(error_lines)} ERROR/CRITICAL log line(s) outside test failures")
    if rc and not bad:
        bad = 1
        notes.append(f"odoo-bin exited with {rc}")
    if run == 0:
        bad = max(bad, 1)
        notes.append("Odoo ran no test")
    return max(run - bad - skipped, 0), bad, skipped, notes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--junit", action="append", default=[], help="pytest JUnit XML report (repeatable)")
    parser.add_argument("--odoo-log", help="log of the Odoo test run (none: the Odoo part did not run)")
    parser.add_argument("--odoo-rc", type=int, default=0)
    parser.add_argument("--parts", default="services,odoo,e2e", help="the parts bin/test ran (comma-separated)")
    args = parser.parse_args()
    p1 = f1 = s1 = 0
    n1 = []
    for path in args.junit:
        passed, failed, skipped, notes = junit_counts(path)
        p1, f1, s1, n1 = p1 + passed, f1 + failed, s1 + skipped, n1 + notes
    p2 = f2 = s2 = 0
    n2 = []
    if args.odoo_log:
        p2, f2, s2, n2 = odoo_counts(args.odoo_log, args.odoo_rc)
    if args.parts != "services,odoo,e2e":
        n2.append(f"only these parts ran: {args.parts.replace(',', ', ')}")
    for note in n1 + n2:
        print(f"note: {note}")
    pytest_counts = f"{p1} passed, {f1} failed, {s1} skipped" if args.junit else "not run"
    odoo = f"{p2} passed, {f2} failed, {s2} skipped" if args.odoo_log else "not run"
    print(f"pytest: {pytest_counts} | odoo: {odoo}")
    if s1 + s2:
        print("Skipped tests count as failures (a skipped browser tour proves nothing).")
    passed, failed, skipped = p1 + p2, f1 + f2 + s1 + s2, s1 + s2
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
