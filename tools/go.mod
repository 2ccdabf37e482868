module pprof-rbac-proxy/tools

go 1.19
