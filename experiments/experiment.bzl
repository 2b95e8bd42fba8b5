"""The `experiment(name, spec)` macro: a spec file as a `bazel run` target."""

def experiment(name, spec, runner = "//experiments:run", **kwargs):
    """`bazel run //<pkg>:<name>` trains and evaluates `spec`.

    Args:
      name: the target name.
      spec: the text-format ExperimentSpec file (a label).
      runner: the binary that runs specs (custom models link their own runner
        so that their registration is in it).
      **kwargs: passed to the sh_binary (e.g. tags, visibility).
    """
    native.sh_binary(
        name = name,
        srcs = ["//experiments:run_spec.sh"],
        args = [
            "$(rootpath %s)" % runner,
            "$(rootpath %s)" % spec,
        ],
        data = [runner, spec],
        **kwargs
    )
