"""`perks train` and `perks evaluate`: thin wrappers over training, model and evaluate."""

from pathlib import Path

import click

from perks.cli.support import echo_json, json_option
from perks.paths import CARD_PATH, MODEL_PATH, SHARED_BOTS_DIR, TABLE_PATH


@click.command("train")
@click.option("--build-table", "rebuild", is_flag=True,
              help=f"Rebuild {TABLE_PATH.name} from the research data in {SHARED_BOTS_DIR}.")
@click.option("--quick", is_flag=True,
              help="Skip permutation importance and the feature-removal runs (faster).")
@click.option("--with-reviews", is_flag=True,
              help="Add reviewers' decisions as labelled rows, retrain, print metrics before "
                   "and after, bump the model version and rescore (perks review retrain).")
@json_option
@click.pass_context
def train_command(ctx: click.Context, rebuild: bool, quick: bool, with_reviews: bool,
                  as_json: bool) -> None:
    """Train the bot model from the bundled table; write the model and its card."""
    if with_reviews:
        # Reviews live in the database; the review stage owns reading them and rescoring, and
        # its command is the one public home of that flow.
        from perks.cli.review import retrain_command

        ctx.invoke(retrain_command, no_rescore=False, as_json=as_json)
        return
    from perks.detection.model import train
    from perks.detection.training import build_table, load_table, write_table

    if rebuild:
        if not SHARED_BOTS_DIR.is_dir():
            raise click.ClickException(f"no research data at {SHARED_BOTS_DIR}")
        sha = write_table(build_table(SHARED_BOTS_DIR))
        if not as_json:
            click.echo(f"Rebuilt {TABLE_PATH} (sha256 {sha[:12]})")
    if not TABLE_PATH.is_file():
        raise click.ClickException(f"no training table at {TABLE_PATH}; use --build-table")
    try:
        table, sha = load_table(TABLE_PATH)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    card = train(table, sha, full=not quick)
    if as_json:
        echo_json({k: card[k] for k in ("version", "threshold", "metrics")})
        return
    metrics = card["metrics"]
    point = metrics["threshold"]
    click.echo(f"Model {card['version']} -> {MODEL_PATH}, card -> {CARD_PATH}")
    click.echo(f"rows {len(table)}; stratified 5-fold ROC AUC {metrics['cv5_roc_auc']}; "
               f"Brier {metrics['brier']}")
    click.echo(f"threshold {point['threshold']}: precision {point['precision']}, "
               f"recall {point['recall']} (group-balanced, out-of-fold)")
    click.echo(f"leave-one-group-out (mean AUC {metrics['leave_group_out_mean_auc']}):")
    for group, result in metrics["leave_group_out"].items():
        rate = ("recall", result["recall"]) if "recall" in result else (
            "false-positive rate", result["false_positive_rate"])
        click.echo(f"  {group:32s} AUC {result['auc']}  {rate[0]} {rate[1]}  "
                   f"(with {', '.join(result['tested_with'])})")
    for name, result in metrics.get("top3_removed", {}).items():
        click.echo(f"without {name}: 5-fold AUC {result['cv5_roc_auc']}, "
                   f"leave-one-group-out mean AUC {result['leave_group_out_mean_auc']}")


@click.command("evaluate")
@click.argument("specs", nargs=-1, required=True, metavar="PATH[:LABEL]...")
@click.option("--label-column", default="label", show_default=True,
              help="Column or field holding bot/human (1/0, true/false).")
@click.option("--ignore-field", "ignore_fields", multiple=True,
              help="Treat this input field as absent (repeatable).")
@click.option("--observed-at", help="When profiles without their own time were observed.")
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False),
              help="A model file other than the shipped one (its card must sit beside it).")
@json_option
def evaluate_command(specs: tuple[str, ...], label_column: str, ignore_fields: tuple[str, ...],
                     observed_at: str | None, model_path: Path | None, as_json: bool) -> None:
    """Evaluate the bot model on labelled files. Changes nothing in the database."""
    from perks.detection import Detector
    from perks.detection.evaluate import EvaluationError, evaluate_files
    from perks.importing.records import RowError, parse_time

    try:
        when = parse_time(observed_at, "--observed-at") if observed_at else None
        detector = Detector.load(model_path)
        result = evaluate_files(detector, specs, label_column=label_column,
                                ignore_fields=ignore_fields, observed_at=when)
    except (EvaluationError, RowError, FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        echo_json(result)
        return
    for counts in result["files"]:
        click.echo(f"{counts['file']}: {counts['records']} records, {counts['rejected']} "
                   f"rejected, {counts['unlabelled']} without a label")
    click.echo(f"model {result['model_version']}, threshold {result['threshold']}")
    click.echo(f"n {result['n']}, positives {result['positives']}, ROC AUC {result['roc_auc']}, "
               f"average precision {result['average_precision']}, Brier {result['brier']}")
    c = result["confusion"]
    click.echo(f"precision {result['precision']}, recall {result['recall']}, F1 {result['f1']} "
               f"(TP {c['true_positives']}, FP {c['false_positives']}, "
               f"FN {c['false_negatives']}, TN {c['true_negatives']})")


COMMANDS = [train_command, evaluate_command]
