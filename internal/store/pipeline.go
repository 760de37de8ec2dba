package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// Pipeline returns a project's stages in order.
func (s *Store) Pipeline(ctx context.Context, projectID int64) ([]alm.Stage, error) {
	rows, err := s.pool.Query(ctx, `SELECT p.id, p.position, p.name, p.org_id, coalesce(o.name, ''), p.branch, p.approvals_required, p.approver_roles,
		p.no_self_approval, p.validation_required, p.test_level, p.coverage_threshold, p.change_windows, p.frozen, p.freeze_reason, p.block_checks, p.developer_validation
		FROM pipeline_stages p LEFT JOIN orgs o ON o.id = p.org_id WHERE p.project_id = $1 ORDER BY p.position`, projectID)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Stage, error) {
		var st alm.Stage
		var roles []string
		var dev bool
		err := r.Scan(&st.ID, &st.Position, &st.Name, &st.OrgID, &st.OrgName, &st.Branch, &st.ApprovalsRequired, &roles, &st.NoSelfApproval,
			&st.ValidationRequired, &st.TestLevel, &st.CoverageThreshold, &st.ChangeWindows, &st.Frozen, &st.FreezeReason, &st.BlockChecks, &dev)
		st.DeveloperValidation = &dev
		for _, x := range roles {
			st.ApproverRoles = append(st.ApproverRoles, alm.Role(x))
		}
		if st.ApproverRoles == nil {
			st.ApproverRoles = []alm.Role{}
		}
		return st, err
	})
	if out == nil {
		out = []alm.Stage{}
	}
	return out, err
}

// SavePipeline replaces a project's stages with stages, in order.
func (s *Store) SavePipeline(ctx context.Context, projectID int64, stages []alm.Stage) error {
	for i := range stages {
		stages[i].Name = strings.TrimSpace(stages[i].Name)
		stages[i].Branch = strings.TrimSpace(stages[i].Branch)
	}
	if err := alm.ValidatePipeline(stages); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM pipeline_stages WHERE project_id = $1`, projectID); err != nil {
			return fmt.Errorf("clear pipeline: %w", err)
		}
		var names []string
		for i, st := range stages {
			if st.OrgID != nil {
				var ok bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orgs WHERE id = $1)`, *st.OrgID).Scan(&ok); err != nil {
					return err
				}
				if !ok {
					return alm.Invalid(map[string]string{fmt.Sprintf("stages.%d.org_id", i): "There is no such org."})
				}
			}
			dev := st.DeveloperValidation
			if dev == nil {
				// Not said: yes, except against production.
				var prod bool
				if st.OrgID != nil {
					if err := tx.QueryRow(ctx, `SELECT kind = 'production' FROM orgs WHERE id = $1`, *st.OrgID).Scan(&prod); err != nil {
						return err
					}
				}
				v := !prod
				dev = &v
			}
			roles := make([]string, len(st.ApproverRoles))
			for j, r := range st.ApproverRoles {
				roles[j] = string(r)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO pipeline_stages (project_id, position, name, org_id, branch, approvals_required, approver_roles,
				no_self_approval, validation_required, test_level, coverage_threshold, change_windows, frozen, freeze_reason, block_checks, developer_validation)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
				projectID, i, st.Name, st.OrgID, st.Branch, st.ApprovalsRequired, roles, st.NoSelfApproval, st.ValidationRequired, st.TestLevel,
				st.CoverageThreshold, strings.TrimSpace(st.ChangeWindows), st.Frozen, strings.TrimSpace(st.FreezeReason), st.BlockChecks, *dev); err != nil {
				return fmt.Errorf("save stage %s: %w", st.Name, err)
			}
			names = append(names, st.Name)
		}
		return s.record(ctx, tx, projectID, "project", projectID, "project.pipeline", "pipeline set to "+strings.Join(names, " → "))
	})
}

// DeployedItems maps each stage (by name, lower case) to the work items
// deployed there by a promotion of the project, with their titles.
func (s *Store) DeployedItems(ctx context.Context, projectID int64) (map[string]map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT lower(m.stage_name), w.key, w.title
		FROM promotions m JOIN build_components bc ON bc.build_id = m.build_id JOIN work_items w ON w.key = bc.work_item
		WHERE m.project_id = $1 AND m.status = 'deployed'`, projectID)
	if err != nil {
		return nil, fmt.Errorf("deployed items: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var stage, key, title string
		if err := rows.Scan(&stage, &key, &title); err != nil {
			return nil, err
		}
		if out[stage] == nil {
			out[stage] = map[string]string{}
		}
		out[stage][key] = title
	}
	return out, rows.Err()
}
