"""The `experiment(name, spec)` macro: a spec file as a `bazel run` target.

Usable from other workspaces: load("@elm//experiments:experiment.bzl", "experiment").
Its own labels are Label()s, so they name elm's files wherever the macro is called.
"""

def experiment(name, spec, runner = None, **kwargs):
    """`bazel run //<pkg>:<name>` trains and evaluates `spec`.

    Arguments after `--` go to the runner, e.g.
    `bazel run //<pkg>:<name> -- --set train.epochs=1 --output_dir=/tmp/run`.
    The built script also runs without `bazel run`, e.g. on MPI ranks:
    `mpirun ... -np 2 bazel-bin/<pkg>/<name> --set train.shards=2`.

    Args:
      name: the target name.
      spec: the text-format ExperimentSpec file (a label).
      runner: the binary that runs specs; default @elm//experiments:run (the built-in
        models). A workspace with a custom model links its own runner: a cc_binary that
        depends on @elm//experiments:run_main and the library registering the model
        (alwayslink = 1), e.g. runner = ":runner".
      **kwargs: passed to the sh_binary (e.g. tags, visibility).
    """
    if runner == None:
        runner = Label("//experiments:run")
    runner = str(runner)
    template = str(Label("//experiments:run_spec.sh"))

    # The script with the runner's and the spec's runfiles paths written in, so
    # that it needs no `args` (which only `bazel run` passes).
    native.genrule(
        name = name + "_script",
        srcs = [template, spec, runner],
        outs = [name + "_run_spec.sh"],
        cmd = "sed -e 's|@RUNNER@|$(rootpath %s)|' -e 's|@SPEC@|$(rootpath %s)|' $(location %s) > $@" % (runner, spec, template),
        visibility = ["//visibility:private"],
    )
    native.sh_binary(
        name = name,
        srcs = [name + "_run_spec.sh"],
        data = [runner, spec],
        **kwargs
    )

def sweep(name, sweep, specs = [], runner = None, **kwargs):
    """`bazel run //<pkg>:<name>` runs the sweep `sweep` (experiments/proto/sweep.proto).

    Arguments after `--` go to the sweep binary, e.g.
    `bazel run //<pkg>:<name> -- --list` or `-- --output_dir=/tmp/sweep`.
    The built script also runs without `bazel run`, e.g. on MPI ranks:
    `mpirun ... -np 2 bazel-bin/<pkg>/<name>` (relative paths are then taken
    from the directory mpirun started in).

    Args:
      name: the target name.
      sweep: the text-format SweepSpec file (a label).
      specs: the spec files its `spec_file` names (labels), so that they are
        in the runfiles beside it.
      runner: the sweep binary; default @elm//experiments:sweep.
      **kwargs: passed to the sh_binary (e.g. tags, visibility, testonly).
    """
    if runner == None:
        runner = Label("//experiments:sweep")
    runner = str(runner)
    template = str(Label("//experiments:run_sweep.sh"))

    # As in experiment(): the paths written into the script, no `args`.
    native.genrule(
        name = name + "_script",
        srcs = [template, sweep, runner],
        outs = [name + "_run_sweep.sh"],
        cmd = "sed -e 's|@RUNNER@|$(rootpath %s)|' -e 's|@SWEEP@|$(rootpath %s)|' $(location %s) > $@" % (runner, sweep, template),
        visibility = ["//visibility:private"],
        testonly = kwargs.get("testonly", False),
    )
    native.sh_binary(
        name = name,
        srcs = [name + "_run_sweep.sh"],
        data = [runner, sweep] + specs,
        **kwargs
    )
