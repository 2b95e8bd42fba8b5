"""elm_dependencies(): every external repository elm needs, defined once.

Both elm's own WORKSPACE and the WORKSPACE of any other workspace that builds on elm call
it, after declaring elm itself:

    local_repository(name = "elm", path = "<path to the elm checkout>")
    load("@elm//third_party:repositories.bzl", "elm_dependencies")
    elm_dependencies()

Nothing is downloaded: the libraries come from Debian (tools/setup.sh installs them) and
the three repositories Bazel 4.2.3 would otherwise download (@rules_cc, @rules_java,
@remote_coverage_tools) are small shims in elm's third_party/. Every label here is a
Label() so that it names a file of the elm repository from whichever workspace calls the
macro. A repository the calling workspace has already defined is kept (e.g. its own
@com_google_protobuf), so call this after your own definitions.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")
load("//third_party/shared_repo:shared_repo.bzl", "shared_repo")

def _elm_shim_repo_impl(ctx):
    # The folder holding the shim's WORKSPACE, inside the elm repository (local_repository
    # paths are relative to the *calling* workspace, so they cannot name it).
    src = ctx.path(ctx.attr.workspace_file).dirname
    for child in src.readdir():
        ctx.symlink(child, child.basename)

_elm_shim_repo = repository_rule(
    implementation = _elm_shim_repo_impl,
    attrs = {"workspace_file": attr.label(allow_single_file = True)},
    local = True,
)

def elm_dependencies():
    """Defines @rules_cc, @rules_java, @remote_coverage_tools, @com_google_protobuf,
    @eigen, @hdf5, @mpi and @shared (where not yet defined)."""

    # Bazel 4.2.3 loads @rules_cc for its own C++ rules; Debian's package is too new for
    # it, so a forwarding shim stands in.
    maybe(
        _elm_shim_repo,
        name = "rules_cc",
        workspace_file = Label("//third_party/rules_cc:WORKSPACE"),
    )

    # @bazel_tools//tools/jdk loads @rules_java while registering Java toolchains.
    maybe(
        _elm_shim_repo,
        name = "rules_java",
        workspace_file = Label("//third_party/rules_java:WORKSPACE"),
    )

    # Every test references @remote_coverage_tools; coverage is not set up here.
    maybe(
        _elm_shim_repo,
        name = "remote_coverage_tools",
        workspace_file = Label("//third_party/remote_coverage_tools:WORKSPACE"),
    )

    # Native proto_library / cc_proto_library over Debian's protoc and libprotobuf.
    maybe(
        native.new_local_repository,
        name = "com_google_protobuf",
        build_file = str(Label("//third_party:protobuf.BUILD")),
        path = "/usr",
    )

    maybe(
        native.new_local_repository,
        name = "eigen",
        build_file = str(Label("//third_party:eigen.BUILD")),
        path = "/usr/include/eigen3",
    )

    maybe(
        native.new_local_repository,
        name = "hdf5",
        build_file = str(Label("//third_party:hdf5.BUILD")),
        path = "/usr/include/hdf5/serial",
    )

    maybe(
        native.new_local_repository,
        name = "mpi",
        build_file = str(Label("//third_party:mpi.BUILD")),
        path = "/usr/lib/x86_64-linux-gnu/openmpi/include",
    )

    # ../shared beside the elm checkout (golden data, fixtures for elm's own tests);
    # empty when absent.
    maybe(
        shared_repo,
        name = "shared",
    )
