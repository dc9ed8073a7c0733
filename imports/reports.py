"""Reports as people read them (the command's output; the admin shows the same dict)."""

from __future__ import annotations


def summary_lines(report: dict, *, verbose: bool = False) -> list[str]:
    counts, artists = report["counts"], report["artists"]
    what = "Dry run (nothing written)" if report["dry_run"] else "Imported"
    lines = [
        f"{what}: layout {report['layout']}, source {report['source']}, {report['seconds']} s",
        "Artworks: {create} to create, {update} to update, {unchanged} unchanged, "
        "{rejected} rejected".format(**counts)
        if report["dry_run"]
        else "Artworks: {create} created, {update} updated, {unchanged} unchanged, "
        "{rejected} rejected".format(**counts),
        "Artists: {create} new, {update} updated, {unchanged} unchanged".format(**artists),
    ]
    for item in report["rejected"]:
        text = f" {item['text']!r}" if item.get("text") else ""
        number = item["accession_number"] or "-"
        lines.append(f"  rejected row {item['row']} {number}: {item['reason']}{text}")
    if report["warnings"]:
        lines.append(f"Warnings: {len(report['warnings'])}")
        if verbose:
            lines += [
                f"  row {w['row']} {w['accession_number']}: {w['warning']}"
                for w in report["warnings"]
            ]
    return lines
