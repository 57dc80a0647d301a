"""`flask opendata export`: a county's or the whole country's open-data CSV (and metadata)
for one calendar year, the same files as the public group pages offer."""
from pathlib import Path

import click


@click.group("opendata", help="Open data for groups of institutions.")
def opendata_group():
    pass


@opendata_group.command("export")
@click.option("--county", help="The county, as the institutions' county field spells it.")
@click.option("--all", "everyone", is_flag=True, help="Every institution of the deployment.")
@click.option("--year", type=click.IntRange(2000, 9998), required=True)
@click.option("--out", "output", type=click.Path(dir_okay=False, writable=True),
              help="Write the CSV to this file instead of standard output.")
@click.option("--metadata", type=click.Path(dir_okay=False, writable=True),
              help="Also write the metadata JSON (totals, who has not reported) here.")
def opendata_export(county: str | None, everyone: bool, year: int, output: str | None,
                    metadata: str | None):
    """One row per institution and indicator, small counts suppressed as on each
    institution's own page; a year not over yet is marked provisional."""
    from ..services.indicators import group_exports
    from ..services.indicators.group import all_institutions, county_group, group_indicators
    from ..services.indicators.group_public import public_group
    from ..services.indicators.periods import Period

    if everyone == bool(county):
        raise click.UsageError("Give either --county NAME or --all.")
    group = all_institutions() if everyone else county_group(county or "")
    if not group.members:
        raise click.ClickException(f"No institution is in county {county!r}.")
    published = public_group(group_indicators(group, Period.year(year)))
    body = group_exports.to_csv(published)
    if output:
        Path(output).write_text(body, encoding="utf-8")
        click.echo(f"Written {output} ({len(group.members)} institutions)", err=True)
    else:
        click.echo(body, nl=False)
    if metadata:
        Path(metadata).write_text(group_exports.metadata_json(published,
                                                              published.generated_at),
                                  encoding="utf-8")
        click.echo(f"Written {metadata}", err=True)


@opendata_group.command("refresh")
@click.option("--year", type=click.IntRange(2000, 9998), multiple=True,
              help="A completed year (repeat for several); default: the last five.")
def opendata_refresh(year: tuple[int, ...]):
    """Recompute the snapshots the county and country figures read (run nightly, e.g. from
    cron beside `jobs run`): one grouped pass per year over every institution."""
    from ..extensions import db
    from ..services.indicators.group import all_institutions, refresh_snapshots
    from ..services.indicators.group_transparency import public_years
    from ..services.indicators.periods import Period

    group = all_institutions()
    for one in year or public_years():
        kept = refresh_snapshots(group, Period.year(one))
        db.session.commit()
        click.echo(f"{one}: {kept} institutions", err=True)
