module github.com/toasttray/toasttray

go 1.26.0
