# syntax=docker/dockerfile:1
# The pprof-rbac-proxy image: a release build with the Swift standard library and Foundation linked
# in statically, on distroless/cc (glibc, libstdc++, the CA roots and the non-root user 65532; no
# shell, no package manager). Copied in: the binary, and libz, the one shared library it needs
# that distroless/cc lacks (swift-nio-extras' HTTP decompression, through async-http-client).
#   docker build -t pprof-rbac-proxy:0.1.0 .
# The build stage's Swift is the one the tests build with; the runtime stage's Debian is the build
# stage's, so the binary runs on the glibc it was linked against.

FROM swift:6.3.1-bookworm AS build
WORKDIR /src
# Dependencies first: their layer is reused while only the sources change.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# Linked by lld with packed relative relocations (glibc 2.36, as in Debian 12) and without exporting
# every symbol: 3 MiB of relocations become 45 KiB, and the dynamic symbol table 12 KiB. Exclusive
# access is enforced at compile time only: the runtime checks cost about 1.5% of the CPU time per
# request, and the debug builds of the tests keep them (docs/performance.md).
RUN swift build -c release --static-swift-stdlib --product pprof-rbac-proxy -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic -Xswiftc -enforce-exclusivity=unchecked
RUN binary=/out/usr/local/bin/pprof-rbac-proxy \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/pprof-rbac-proxy" "$binary" \
    && strip "$binary" \
    && libz=$(ldd "$binary" | awk '$1 == "libz.so.1" { print $3 }') \
    && install -D -m 0644 "$(readlink -f "$libz")" "/out$libz" \
    && "$binary" --version

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ /
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/pprof-rbac-proxy"]
