module stemma/bindings/go

go 1.19
