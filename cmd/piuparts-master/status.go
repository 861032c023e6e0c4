package main

import (
	"context"
	"errors"
)

func runStatus(ctx context.Context, e *env, args []string) error { return errors.New("todo") }

func runReservations(ctx context.Context, e *env, args []string) error { return errors.New("todo") }
