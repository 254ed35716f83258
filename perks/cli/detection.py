"""`perks train` and `perks evaluate`: thin wrappers over training, model and evaluate."""

import hashlib
import sys
from pathlib import Path

import click

from perks.cli.support import echo_json, json_option
from perks.paths import SHARED_BOTS_DIR


@click.command("train")
@click.option("--build-table", "rebuild", is_flag=True,
              help="Rebuild the training table from the research data (--data) first.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
              default=SHARED_BOTS_DIR, show_default=True,
              help="The research data folder --build-table reads.")
@click.option("--quick", is_flag=True,
              help="Skip permutation importance and the feature-removal runs (faster).")
@click.option("--with-reviews", is_flag=True,
              help="Add reviewers' decisions as labelled rows, retrain, print metrics before "
                   "and after, bump the model version and rescore (perks review retrain).")
@json_option
@click.pass_context
def train_command(ctx: click.Context, rebuild: bool, data_dir: Path, quick: bool,
                  with_reviews: bool, as_json: bool) -> None:
    """Train the bot model; write it and its card into the instance folder's model store
    (a new version, made the active one; the bundled model stays as the fallback)."""
    if with_reviews:
        # Reviews live in the database; the review stage owns reading them and rescoring, and
        # its command is the one public home of that flow.
        from perks.cli.review import retrain_command

        ctx.invoke(retrain_command, no_rescore=False, as_json=as_json)
        return
    from perks.detection import policy, store
    from perks.detection.model import MODEL_VERSION, train
    from perks.detection.training import TABLE_PATH, build_table, load_table, table_to_csv

    text = None
    if rebuild:
        if not data_dir.is_dir():
            raise click.ClickException(
                f"no research data at {data_dir}: give the folder with --data DIR (it holds "
                "cresci-2015/, cresci-2017/, ... as in the data manifest)")
        try:
            # The bigram table stays the bundled one: scoring reads that, so training must too.
            table = build_table(data_dir, bigram_path=None, bundled_bigrams=True)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        text = table_to_csv(table)
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if not as_json:
            click.echo(f"Rebuilt the training table from {data_dir} ({len(table):,} rows, "
                       f"sha256 {sha[:12]})")
    else:
        if not TABLE_PATH.is_file():
            raise click.ClickException(f"no training table at {TABLE_PATH}; use --build-table")
        try:
            table, sha = load_table(TABLE_PATH)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    version = f"{MODEL_VERSION}+{sha[:8]}"
    folder = store.new_base_dir(version)
    if text is not None:  # the table beside the model it trained, never into the package
        (folder / "bot_training.csv").write_text(text, encoding="utf-8")
    from tqdm import tqdm  # a progress bar for this command only: `perks --help` stays light

    with tqdm(desc="training", unit=" step", disable=None if not as_json else True,
              file=sys.stderr, leave=False) as bar:
        card = train(table, sha, model_path=folder / store.MODEL_FILE,
                     card_path=folder / store.CARD_FILE, full=not quick,
                     progress=lambda label: (bar.set_postfix_str(label), bar.update()))
    store.activate_base(card["version"])
    policy.forget_cache()
    if as_json:
        echo_json({k: card[k] for k in ("version", "threshold", "metrics")})
        return
    metrics = card["metrics"]
    point = metrics["threshold"]
    click.echo(f"Model {card['version']} -> {folder} (now the active model; running servers "
               f"switch within {policy.CHECK_SECONDS:g} s)")
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
              help="A model file other than the one in use (its card must sit beside it).")
@click.option("--adapt", "adapt_n", type=click.IntRange(0), default=None,
              help="Simulate a reviewer deciding N accounts (half the top of the ranking, "
                   "half a uniform sample), adapt as for a brand, report before and after on "
                   "the rest.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the uniform half of --adapt's sample.")
@json_option
def evaluate_command(specs: tuple[str, ...], label_column: str, ignore_fields: tuple[str, ...],
                     observed_at: str | None, model_path: Path | None, adapt_n: int | None,
                     seed: int, as_json: bool) -> None:
    """Evaluate the bot model on labelled files. Changes nothing in the database."""
    from perks.detection import Detector
    from perks.detection.evaluate import EvaluationError, evaluate_adapted, evaluate_files
    from perks.importing.records import RowError, parse_time

    try:
        when = parse_time(observed_at, "--observed-at") if observed_at else None
        detector = Detector.load(model_path)
        if adapt_n is not None:
            result = evaluate_adapted(detector, specs, decisions=adapt_n, seed=seed,
                                      label_column=label_column, ignore_fields=ignore_fields,
                                      observed_at=when)
        else:
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
    if adapt_n is None:
        _echo_metrics(result)
        return
    d = result["decisions"]
    click.echo(f"simulated reviewer: {d['n']} decisions ({d['automated']} automated, "
               f"{d['genuine']} genuine; seed {d['seed']}), adapted in {d['adapt_seconds']} s; "
               "figures on the remaining accounts")
    for label in ("before", "after"):
        click.echo(f"-- {label}")
        _echo_metrics(result[label])


def _echo_metrics(result: dict) -> None:
    click.echo(f"model {result['model_version']}, threshold {result['threshold']}")
    click.echo(f"n {result['n']}, positives {result['positives']}, ROC AUC {result['roc_auc']}, "
               f"average precision {result['average_precision']}, Brier {result['brier']}")
    c = result["confusion"]
    click.echo(f"precision {result['precision']}, recall {result['recall']}, F1 {result['f1']} "
               f"(TP {c['true_positives']}, FP {c['false_positives']}, "
               f"FN {c['false_negatives']}, TN {c['true_negatives']})")


COMMANDS = [train_command, evaluate_command]
