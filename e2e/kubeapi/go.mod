module github.com/cocogen/cocogen/e2e/kubeapi

go 1.26.0
