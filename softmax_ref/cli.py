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


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written; every option's default stated, unless its help already does."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" not in text
            and action.default not in (None, False, argparse.SUPPRESS)
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


_EXAMPLES = {
    "demo": "softmax-ref demo --output demo-output --datasets toy",
    "train": "softmax-ref train data.csv --model model.npz --solver lbfgs --reg 0.01",
    "predict": "softmax-ref predict model.npz data.csv --proba",
}


def build_parser() -> argparse.ArgumentParser:
    from softmax_ref import __version__

    parser = argparse.ArgumentParser(
        prog="softmax-ref",
        description="A reference softmax cross-entropy classifier with a verified gradient.",
    )
    parser.add_argument("--version", action="version", version=f"softmax-ref {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        example = _EXAMPLES.get(name)
        return sub.add_parser(
            name,
            help=help,
            formatter_class=_HelpFormatter,
            epilog=f"example:\n  {example}" if example else None,
        )

    demo = add("demo", help="the main job on the blog post's toy data set")
    # demo.py and model_cli.py import only argparse and numpy at top level.
    from softmax_ref.demo import configure_parser as configure_demo

    configure_demo(demo)
    demo.set_defaults(func=_demo)
    from softmax_ref.model_cli import configure_predict, configure_train, run_predict, run_train

    train = add("train", help="fit a SoftmaxClassifier to a CSV or .npz file")
    configure_train(train)
    train.set_defaults(func=run_train)
    predict = add("predict", help="predict with a saved model on a CSV or .npz file")
    configure_predict(predict)
    predict.set_defaults(func=run_predict)
    verify = add(
        "verify",
        help="three-way check (analytic, JAX, finite differences) of a gradient: your own "
        "loss with --loss, else against softmax cross-entropy",
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
