module portcullis.dev/go-tools/ocireg

go 1.26.0
