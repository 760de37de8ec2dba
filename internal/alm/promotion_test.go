package alm

import "testing"

func TestPromotionMoves(t *testing.T) {
	for _, c := range []struct {
		s    PromotionStatus
		a    PromotionAction
		want bool
	}{
		{PromoOpen, ActApprove, true}, {PromoOpen, ActDeploy, true}, {PromoOpen, ActRollback, false},
		{PromoDeploying, ActCancel, true}, {PromoDeploying, ActApprove, false}, {PromoDeploying, ActRetry, false},
		{PromoFailed, ActRetry, true}, {PromoFailed, ActRollback, true}, {PromoCanceled, ActRetry, true},
		{PromoDeployed, ActRollback, true}, {PromoDeployed, ActDeploy, false},
		{PromoRejected, ActDeploy, false}, {PromoAbandoned, ActRetry, false}, {PromoRolledBack, ActRollback, false},
	} {
		if got := c.s.Allows(c.a); got != c.want {
			t.Errorf("%s allows %s = %v, want %v", c.s, c.a, got, c.want)
		}
	}
	// Every state that is not final has a way out.
	for _, s := range []PromotionStatus{PromoOpen, PromoDeploying, PromoFailed, PromoCanceled, PromoDeployed} {
		if len(s.Actions()) == 0 {
			t.Errorf("%s has no way out", s)
		}
	}
}
