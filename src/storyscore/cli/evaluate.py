"""`storyscore evaluate MODEL`: P@5, P@10, MRR, nDCG of a trained space on labelled data (the research side)."""

from __future__ import annotations

import argparse
import json
import sys

from storyscore import api
from storyscore.cli._labelled import add_labelled_data, labelled_data
from storyscore.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_labelled_data(sub.add_parser("evaluate", help="P@5, P@10, MRR, nDCG of a trained space"))
    p.add_argument("model", help="a folder written by `storyscore train`")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--umap", metavar="PNG", help="also draw the space: UMAP fitted on music, passages projected")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storyscore.training.experiment import evaluate_space
    from storyscore.training.metrics import to_markdown

    model = api.resolve_space(model=args.model)
    data = labelled_data(args, model.space)
    results = evaluate_space(model, data)
    if args.json:
        print(json.dumps(results, indent=2, default=float))
    else:
        print(to_markdown(results))
        tags = results["tag_to_music"]
        if "macro" in tags:
            print(f"\nTag→music retrieval: macro ROC-AUC {tags['macro']['roc_auc']:.3f}, "
                  f"PR-AUC {tags['macro']['pr_auc']:.3f} over {len(tags['per_tag'])} moods (random: 0.5 ROC-AUC)")
        else:
            print(f"\nTag→music retrieval: {tags['skipped']}")
    if args.umap:
        import importlib.util

        from storyscore.training.experiment import umap_figure

        if importlib.util.find_spec("umap") is None:
            raise InputError("--umap needs umap-learn, in the research extra: pip install 'storyscore[research]'")

        print(f"wrote {umap_figure(model, data, args.umap)}", file=sys.stderr)
    return 0
