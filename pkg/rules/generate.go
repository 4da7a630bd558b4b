package rules

//go:generate go run ./internal/genfields -o ../../docs/fields.md
