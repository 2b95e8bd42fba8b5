"""@shared: the ../shared folder beside the checkout (golden data, fixtures), if present.

Symlinks the folder's children into the external repository and always defines
`@shared//:files` (and `:golden`, `:data`), which are empty where ../shared does not exist; tests then skip.
Re-evaluated when the Bazel server restarts.
"""

def _shared_repo_impl(ctx):
    root = ctx.path(Label("//:WORKSPACE")).dirname.dirname.get_child("shared")
    if root.exists:
        for child in root.readdir():
            ctx.symlink(child, child.basename)
    ctx.file("WORKSPACE", "workspace(name = \"shared\")\n")
    ctx.file("BUILD", """package(default_visibility = ["//visibility:public"])

filegroup(
    name = "files",
    srcs = glob(["**"], exclude = ["BUILD", "WORKSPACE"]),
)

filegroup(
    name = "golden",
    srcs = glob(["golden/**"]),
)

filegroup(
    name = "data",
    srcs = glob(["data/**"]),
)
""")

shared_repo = repository_rule(
    implementation = _shared_repo_impl,
    local = True,
)
