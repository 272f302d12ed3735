#!/usr/bin/env bash
# install.sh: sellerbridge installs like a program. This build tree is installed with
# `cmake --install` into a DESTDIR (the cache's prefix, /usr/local by default) and packaged
# with cpack, the .deb taken apart with dpkg-deb (no root, no dpkg database); each tree is
# checked: the files in their places, the unit naming the installed binary, the man page
# naming every command, environment variable and exit code the code has, the package's
# Depends naming the package of every library the binary links and resolvable by apt
# (apt-get -s), and `sellerbridge demo` run from that PATH with a temporary database.
# Tools that are not there (cpack, dpkg-deb, apt-get, man, groff) skip their part with a
# SKIP line.
. "$SB_SOURCE_DIR/tests/lib.sh"
BUILD=${SB_BUILD_DIR:?SB_BUILD_DIR must name the build tree}
VERSION=$("$SB" --version | awk '{print $2}')
skip() { echo "SKIP: $*"; }

# the roff page as plain text (man, else groff), or the source when neither is there
render_man() {
    if command -v man >/dev/null; then
        MANWIDTH=200 man -l "$1" 2>"$T/man.err"
    elif command -v groff >/dev/null; then
        groff -man -Tutf8 -rLL=200n -P -cbou "$1" 2>"$T/man.err"
    else
        sed 's/^\.[A-Z][A-Z]* //; s/\\-/-/g; s/\\f[BIRP]//g' "$1"
    fi | sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g'
}

# check_tree ROOT PREFIX: an installed tree (DESTDIR ROOT, prefix PREFIX)
check_tree() {
    local root=$1 prefix=$2 what=$3 p=$1$2
    local bin=$p/bin/sellerbridge man=$p/share/man/man1/sellerbridge.1
    [ -x "$bin" ] && ok || bad "$what: no executable $bin"
    expect_rc 0 "$bin" --version
    expect_out "sellerbridge $VERSION"

    # the man page: a .TH line with this version, every command, variable and exit code
    if [ -f "$man" ]; then ok; else bad "$what: no man page $man"; return; fi
    expect_eq "$(grep -v '^\.\\"' "$man" | head -1 | cut -d' ' -f1-3)" ".TH SELLERBRIDGE 1" "$what: first line of the man page"
    grep -qF "\"sellerbridge $VERSION\"" "$man" && ok || bad "$what: the man page's .TH does not name version $VERSION"
    grep -q '@[A-Z_]*@' "$man" && bad "$what: the man page has an unfilled @VAR@" || ok
    if command -v man >/dev/null; then echo "$what: man page rendered with man -l"
    elif command -v groff >/dev/null; then skip "man is not installed; $what: man page rendered with groff"
    else skip "man and groff are not installed; $what: man page checked as roff source only"; fi
    render_man "$man" >"$T/man.txt"
    [ -s "$T/man.txt" ] && ok || bad "$what: the man page renders to nothing: $(head -c 300 "$T/man.err" 2>/dev/null)"
    if command -v groff >/dev/null; then
        groff -man -ww -z "$man" 2>"$T/groff.err"
        [ ! -s "$T/groff.err" ] && ok || bad "$what: groff warns about the man page: $(head -c 400 "$T/groff.err")"
    fi
    local cmd
    for cmd in $("$bin" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1}'); do
        grep -qE "^ *$cmd( |$)" "$T/man.txt" && ok || bad "$what: the man page has no entry for command '$cmd'"
    done
    # every variable the code reads (TZ is only saved and put back around localtime)
    local v
    for v in $(grep -rhoE 'getenv\("[A-Za-z_]+"\)' "$SRC/engine" | sed 's/getenv("//; s/")//' | sort -u); do
        [ "$v" = TZ ] && continue
        grep -qE "^ *$v\$" "$T/man.txt" && ok || bad "$what: the man page's ENVIRONMENT lacks $v"
    done
    local codes
    codes=$(grep -oE 'SB_EXIT_[A-Z]+ *= *[0-9]+' "$SRC/engine/cli/cli.h" | sed 's/.*= *//')
    [ -n "$codes" ] && ok || bad "no SB_EXIT_ codes found in engine/cli/cli.h"
    awk '/^EXIT STATUS/{on=1; next} /^[A-Z][A-Z ]+$/{on=0} on' "$T/man.txt" >"$T/exit.txt"
    for v in $codes; do
        grep -qE "^ *$v( |$)" "$T/exit.txt" && ok || bad "$what: the man page's EXIT STATUS lacks $v"
    done

    # rule packs, sample data, documents: the source's files, unchanged
    diff -r "$SRC/rules" "$p/share/sellerbridge/rules" >"$T/diff" && ok || bad "$what: share/sellerbridge/rules differs: $(head -c 300 "$T/diff")"
    diff -r "$SRC/examples/rules" "$p/share/sellerbridge/examples/rules" >"$T/diff" && ok || bad "$what: examples/rules differs: $(head -c 300 "$T/diff")"
    [ -f "$p/share/sellerbridge/rules/default/route.lua" ] && ok || bad "$what: no default pack under share/sellerbridge/rules"
    [ -f "$p/share/sellerbridge/examples/data/products.csv" ] && ok || bad "$what: no sample data"
    cmp -s "$SRC/README.md" "$p/share/doc/sellerbridge/README.md" && ok || bad "$what: share/doc/sellerbridge/README.md is not the README"
    cmp -s "$SRC/rules/README.md" "$p/share/doc/sellerbridge/rules.md" && ok || bad "$what: share/doc/sellerbridge/rules.md is not rules/README.md"

    # the systemd unit runs this prefix's binary, and nothing else changed
    local unit=$p/lib/systemd/system/sellerbridge.service
    if [ -f "$unit" ]; then ok; else bad "$what: no unit $unit"; return; fi
    expect_eq "$(grep '^ExecStart=' "$unit")" "ExecStart=$prefix/bin/sellerbridge run --listen 127.0.0.1:8080" "$what: the unit's ExecStart"
    expect_eq "$(grep -v '^ExecStart=' "$unit")" "$(grep -v '^ExecStart=' "$SRC/examples/sellerbridge.service")" "$what: the unit apart from ExecStart"

    # the demo from this PATH, as a user runs it: a fresh folder, no sellerbridge variables
    local run=$T/run-$what
    mkdir -p "$run"
    ( cd "$run" && env -u SELLERBRIDGE_DB -u SELLERBRIDGE_KEY_FILE -u SELLERBRIDGE_KEY HOME="$run" \
        PATH="$p/bin:/usr/bin:/bin" sh -c 'command -v sellerbridge' ) >"$T/which"
    expect_eq "$(cat "$T/which")" "$bin" "$what: sellerbridge on PATH"
    # the simulator runs inside the demo process (a thread), so the timeout bounds it too
    ( cd "$run" && exec env -u SELLERBRIDGE_DB -u SELLERBRIDGE_KEY_FILE -u SELLERBRIDGE_KEY HOME="$run" \
        PATH="$p/bin:/usr/bin:/bin" timeout -k 5 120 sellerbridge demo --dir demo ) >"$T/out" 2>"$T/err"
    local rc=$?
    expect_eq "$rc" 0 "$what: exit status of sellerbridge demo (stderr: $(head -c 400 "$T/err"))"
    expect_out "sellerbridge $VERSION demo: database demo/sellerbridge.db"
    expect_out "first download: 9 orders in 1 page: 7 new"
    expect_out "next download: 1 order in 1 page: 0 new, 1 updated"
    expect_out "1 cancelled"
    expect_out "stock reservations match the open orders"
    [ -f "$run/demo/sellerbridge.db" ] && [ -f "$run/demo/sellerbridge.db.key" ] && ok \
        || bad "$what: the demo left no database and key in $run/demo"
    ( cd "$run" && env -u SELLERBRIDGE_DB PATH="$p/bin:/usr/bin:/bin" \
        sellerbridge --db demo/sellerbridge.db orders list ) >"$T/out" 2>"$T/err"
    expect_eq "$?" 0 "$what: orders list on the demo database"
    expect_out "111-0000004-0000004"
}

# 1. cmake --install into a DESTDIR, the default prefix
SECONDS=0
PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
DESTDIR="$T/destdir" cmake --install "$BUILD" >"$T/install.log" 2>&1 \
    && ok || bad "cmake --install failed: $(tail -c 600 "$T/install.log")"
check_tree "$T/destdir" "$PREFIX" install
echo "install tree checked in ${SECONDS}s"

# 2. the .deb
if ! command -v cpack >/dev/null; then
    skip "cpack is not installed: the Debian package is not built or checked"
elif ! command -v dpkg-deb >/dev/null; then
    skip "dpkg-deb is not installed: the Debian package is not built or checked"
else
    mkdir -p "$T/pkg"
    ( cd "$T/pkg" && timeout -k 5 180 cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$T/pkg" ) >"$T/cpack.log" 2>&1 \
        && ok || bad "cpack failed: $(tail -c 800 "$T/cpack.log")"
    echo "cpack done at ${SECONDS}s"
    deb=$(ls "$T/pkg"/sellerbridge_*.deb 2>/dev/null | head -1)
    if [ -z "$deb" ]; then bad "cpack made no sellerbridge_*.deb: $(tail -c 400 "$T/cpack.log")"; finish; exit; fi
    expect_eq "$(basename "$deb")" "sellerbridge_${VERSION}_$(dpkg --print-architecture 2>/dev/null || echo amd64).deb" "package file name"
    f() { dpkg-deb -f "$deb" "$1"; }
    expect_eq "$(f Package)" sellerbridge "Package"
    expect_eq "$(f Version)" "$VERSION" "Version"
    expect_eq "$(f Section)" net "Section"
    [ -n "$(f Maintainer)" ] && ok || bad "the package has no Maintainer"
    f Description | grep -q "Selling Partner API" && ok || bad "Description: $(f Description)"
    f Description | sed -n 2p | grep -q "sellerbridge keeps" && ok || bad "Description has no long text: $(f Description)"
    dpkg-deb -c "$deb" | awk '$2 != "root/root" {print}' >"$T/owners"
    [ ! -s "$T/owners" ] && ok || bad "files not owned by root: $(head -3 "$T/owners")"

    # Depends: every name a Debian package, and the package of every library the binary links
    f Depends | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g' | grep . | sort -u >"$T/depends"
    while read -r pkg; do
        if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
           || apt-cache show "$pkg" >/dev/null 2>&1; then ok; else bad "Depends names '$pkg', which is no Debian package here"; fi
    done <"$T/depends"
    # what `apt install ./sellerbridge_*.deb` would do, simulated: Depends can be met here
    if command -v apt-get >/dev/null; then
        apt-get -s install "$deb" >"$T/apt" 2>&1
        expect_eq "$?" 0 "apt-get -s install of the package ($(tail -c 400 "$T/apt"))"
        grep -q "^Inst sellerbridge" "$T/apt" && ok || bad "apt-get -s would not install sellerbridge: $(tail -c 400 "$T/apt")"
    else
        skip "apt-get is not installed: the package's Depends are not resolved"
    fi
    dpkg-deb -x "$deb" "$T/deb" && ok || bad "dpkg-deb -x failed"
    if command -v readelf >/dev/null && command -v dpkg >/dev/null; then
        n=0
        ldd "$T/deb/usr/bin/sellerbridge" >"$T/ldd" 2>&1
        for so in $(readelf -d "$T/deb/usr/bin/sellerbridge" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            # the file the loader picks, as dpkg knows it (with and without the /usr of merged-usr)
            path=$(awk -v so="$so" '$1 == so && $2 == "=>" {print $3}' "$T/ldd")
            owner=""
            for c in "$path" "$(readlink -f "$path" 2>/dev/null)" "${path#/usr}" "/usr$path"; do
                [ -n "$c" ] || continue
                owner=$(dpkg -S "$c" 2>/dev/null | head -1 | cut -d: -f1)
                [ -n "$owner" ] && break
            done
            if [ -z "$owner" ]; then bad "no installed package holds $so, which the binary links"; continue; fi
            n=$((n+1))
            grep -qx "$owner" "$T/depends" && ok || bad "the binary links $so from package $owner, which Depends does not name ($(f Depends))"
        done
        [ "$n" -ge 8 ] && ok || bad "only $n NEEDED libraries found in the packaged binary"
    else
        skip "readelf or dpkg is missing: Depends not checked against the linked libraries"
    fi
    dpkg-deb -e "$deb" "$T/control" && ok || bad "dpkg-deb -e failed"
    [ -x "$T/control/postinst" ] && sh -n "$T/control/postinst" && ok || bad "postinst missing, not executable or not valid sh"
    grep -q "adduser --system" "$T/control/postinst" && grep -qx adduser "$T/depends" && ok \
        || bad "postinst must make the unit's user with adduser, and Depends name adduser"
    grep -q "install -d -o sellerbridge -g sellerbridge -m 0700 /var/lib/sellerbridge" "$T/control/postinst" && ok \
        || bad "postinst must make the unit's WorkingDirectory /var/lib/sellerbridge"
    grep -qx "WorkingDirectory=/var/lib/sellerbridge" "$T/deb/usr/lib/systemd/system/sellerbridge.service" && ok \
        || bad "the unit's WorkingDirectory is not the folder the postinst makes"
    check_tree "$T/deb" /usr deb
    echo "package checked at ${SECONDS}s"
fi
finish
