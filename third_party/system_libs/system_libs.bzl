"""A repository rule that wraps Debian's system libraries as cc_library targets.

Each entry becomes `@<name>//:<key>`, a cc_library whose linkopts come from
`pkg-config --libs` (pkg_config) or are given directly (plain_libs). Headers are
in /usr/include, which the compiler searches already.
"""

# Header folders outside /usr/include (OpenMPI's are under /usr/lib): Bazel
# takes no absolute include paths, so each is linked into this repository and
# exported through `includes`.
def _outside_include_dirs(ctx, key, modules):
    result = ctx.execute(["pkg-config", "--cflags-only-I"] + modules.split(" "))
    dirs = [f[2:] for f in result.stdout.strip().split(" ") if f.startswith("-I")]
    dirs = [d for d in dirs if not d.startswith("/usr/include")]
    includes = []
    for i, d in enumerate(dirs):
        link = "%s_include_%d" % (key, i)
        ctx.symlink(d, link)
        includes.append(link)
    if not includes:
        return "[]", []
    return "glob([%s])" % ", ".join(['"%s/**/*.h"' % i for i in includes]), includes

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for key, modules in ctx.attr.pkg_config.items():
        result = ctx.execute(["pkg-config", "--libs"] + modules.split(" "))
        if result.return_code != 0:
            fail("pkg-config failed for %s (%s): %s\nRun tools/setup.sh first." % (key, modules, result.stderr))
        flags = [f for f in result.stdout.strip().split(" ") if f]
        hdrs, includes = _outside_include_dirs(ctx, key, modules)
        lines.append("cc_library(name = %r, linkopts = %r, hdrs = %s, includes = %r)" % (key, flags, hdrs, includes))
    for key, flags in ctx.attr.plain_libs.items():
        lines.append("cc_library(name = %r, linkopts = %r)" % (key, flags.split(" ")))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "\n".join(lines) + "\n")

system_libs = repository_rule(
    implementation = _system_libs_impl,
    attrs = {
        "pkg_config": attr.string_dict(),
        "plain_libs": attr.string_dict(),
    },
    local = True,
)
