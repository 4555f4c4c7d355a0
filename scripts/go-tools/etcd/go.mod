module portcullis.dev/go-tools/etcd

go 1.26.0
