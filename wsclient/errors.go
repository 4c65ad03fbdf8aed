package wsclient

import "errors"

// Classification of failures; test with errors.Is.
var (
	// ErrSignedOut: the site says "Authentication required" and no
	// password can sign in again. Run returns it; the user must act.
	ErrSignedOut = errors.New("signed out")
	// ErrRateLimited: the site refused a token ("Rate limit exceeded").
	ErrRateLimited = errors.New("rate limited")
	// ErrRejected: the site refused the request as a CSRF/Origin failure
	// or the login was wrong: a configuration error, retrying won't help.
	ErrRejected = errors.New("rejected")
)
