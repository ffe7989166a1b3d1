"""The ``softmax-ref`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    from softmax_ref.demo import run_demo

    return run_demo(args)


# The function `softmax-ref verify` checks when --analytic is not given: ours.
# verification never imports softmax_ref, so the default is wired here.
_DEFAULT_ANALYTIC = "softmax_ref.loss_and_grad"


def _verify(args: argparse.Namespace) -> int:
    from softmax_ref import loss_and_grad
    from verification.cli import run_verify

    return run_verify(args, default_analytic=loss_and_grad, default_name=_DEFAULT_ANALYTIC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="softmax-ref",
        description="A reference softmax cross-entropy classifier with a verified gradient.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the main job on the blog post's toy data set")
    # demo.py and model_cli.py import only argparse and numpy at top level.
    from softmax_ref.demo import configure_parser as configure_demo

    configure_demo(demo)
    demo.set_defaults(func=_demo)
    from softmax_ref.model_cli import configure_predict, configure_train, run_predict, run_train

    train = sub.add_parser("train", help="fit a SoftmaxClassifier to a CSV or .npz file")
    configure_train(train)
    train.set_defaults(func=run_train)
    predict = sub.add_parser("predict", help="predict with a saved model on a CSV or .npz file")
    configure_predict(predict)
    predict.set_defaults(func=run_predict)
    verify = sub.add_parser(
        "verify", help="three-way check (analytic, JAX, finite differences) of a gradient"
    )
    # verification/cli.py imports only argparse and numpy at top level.
    from verification.cli import configure_parser as configure_verify

    configure_verify(verify, default_name=_DEFAULT_ANALYTIC)
    verify.set_defaults(func=_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
