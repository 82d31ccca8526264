// Package conformance is the test suite every limits-go storage passes:
// Run checks each rule of the limiter.Storage contract and each strategy the
// storage supports, with stable subtest names, in the manner of
// gocloud.dev's drivertest. Third parties run it against their own storage.
package conformance
