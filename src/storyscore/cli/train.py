"""`storyscore train`: train an emotion space on labelled text and music (the research side)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from storyscore.cli._common import err
from storyscore.cli._labelled import add_labelled_data, labelled_data


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_labelled_data(sub.add_parser("train", help="train an emotion space on labelled text and music"))
    p.add_argument("--space", required=True, help="classification, va, wordvec, two_branch, three_branch, "
                   "supcon, va_regularised (heads on frozen features) or two_branch_cnn (a short-chunk CNN "
                   "learned from the audio)")
    p.add_argument("-o", "--out", required=True, help="folder for model.safetensors and model.json")
    p.add_argument("--mapping", default="manual", help="text label → mood mapping: manual (default), va, w2v")
    p.add_argument("--seed", type=int, default=0, help="split and initialisation seed (default 0)")
    p.add_argument("--epochs", type=int, help="most epochs (early stopping on validation MRR decides)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 1e-3 for the heads, 1e-4 for the CNN)")
    p.add_argument("--text-layers", type=int, default=0, help="fine-tune MiniLM's top N of 6 layers with the "
                   "head spaces (default 0: frozen)")
    p.add_argument("--resume", action="store_true", help="two_branch_cnn: continue from OUT/checkpoint/last.pt")
    p.add_argument("--init-from", metavar="MODEL", help="two_branch_cnn: start the CNN from a trained model "
                   "folder or checkpoint")
    p.add_argument("--cnn-width", type=int, help="two_branch_cnn: channel width (default 32; the paper's 128)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storyscore.training.experiment import train_space
    from storyscore.training.metrics import to_markdown

    data = labelled_data(args, args.space)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    try:
        model = train_space(args.space, data, args.out, mapping=args.mapping, seed=args.seed, epochs=args.epochs,
                            log=log, resume=args.resume, init_from=args.init_from, cnn_width=args.cnn_width,
                            text_layers=args.text_layers, lr=args.lr)
    except KeyboardInterrupt:
        checkpoint = Path(args.out) / "checkpoint" / "last.pt"
        if checkpoint.is_file():
            err(f"interrupted: the last finished epoch is in {checkpoint}; run the same command with --resume "
                "to continue")
            return 130
        raise
    test = (model.card.get("metrics") or {}).get("test")
    if test:
        print(to_markdown(test))
    else:
        print("no test-split results: too few labelled items to hold out a test split", file=sys.stderr)
    print(f"saved {args.out} (space {model.name}, version {model.version})")
    return 0
