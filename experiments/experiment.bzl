"""The `experiment(name, spec)` macro: a spec file as a `bazel run` target.

Usable from other workspaces: load("@elm//experiments:experiment.bzl", "experiment").
Its own labels are Label()s, so they name elm's files wherever the macro is called.
"""

def _runner_script(name, file, flag, runner, data, **kwargs):
    """An sh_binary `name` that execs `runner` with `flag`=<file's runfiles path>.

    The script is experiments/run_file.sh with the runner's and the file's
    runfiles paths written in, so that it needs no `args` (which only
    `bazel run` passes) and also runs when started directly (e.g. by mpirun).
    """
    template = str(Label("//experiments:run_file.sh"))
    native.genrule(
        name = name + "_script",
        srcs = [template, file, runner],
        outs = [name + "_run.sh"],
        cmd = "sed -e 's|@RUNNER@|$(rootpath %s)|' -e 's|@FILE@|$(rootpath %s)|' -e 's|@FLAG@|%s|' $(location %s) > $@" % (runner, file, flag, template),
        visibility = ["//visibility:private"],
        testonly = kwargs.get("testonly", False),
    )
    native.sh_binary(
        name = name,
        srcs = [name + "_run.sh"],
        data = [runner, file] + data,
        **kwargs
    )

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
    _runner_script(name, spec, "--spec", runner, [], **kwargs)

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
    _runner_script(name, sweep, "--sweep", runner, specs, **kwargs)
