package server

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerAdminRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/admin", needs(alm.PermManageUsers), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	})
	s.handle(r, http.MethodGet, "/admin/users", needs(alm.PermManageUsers), s.usersPage)
	s.handle(r, http.MethodGet, "/admin/users/new", needs(alm.PermManageUsers), s.newUserPage)
	s.handle(r, http.MethodPost, "/admin/users", needs(alm.PermManageUsers), s.createUser)
	s.handle(r, http.MethodGet, "/admin/users/{id}", needs(alm.PermManageUsers), s.editUserPage)
	s.handle(r, http.MethodPost, "/admin/users/{id}", needs(alm.PermManageUsers), s.updateUser)
	s.handle(r, http.MethodPost, "/admin/users/{id}/reset-password", needs(alm.PermManageUsers), s.resetPassword)
	s.handle(r, http.MethodPost, "/admin/users/{id}/unlock", needs(alm.PermManageUsers), s.unlockUser)
	s.registerAdminTokenRoutes(r)
	s.registerAdminAuditRoutes(r)
	s.registerAdminJobRoutes(r)
}

func roleOptions() []web.RoleOption {
	opts := make([]web.RoleOption, len(alm.Roles))
	for i, r := range alm.Roles {
		opts[i] = web.RoleOption{Value: string(r), Label: r.Label(), Description: r.Description()}
	}
	return opts
}

var usersCrumb = web.Crumb{Label: "Users & roles", Href: "/admin/users"}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(w, r, "Users & roles", "admin-users")
	s.render(w, r, http.StatusOK, web.Users(web.UsersView{Page: p, Users: users}))
}

func (s *Server) renderUserForm(w http.ResponseWriter, r *http.Request, status int, u *alm.User, f web.Form, temp string) {
	title := "New user"
	if u != nil {
		title = u.Name
	}
	p := s.page(w, r, title, "admin-users", usersCrumb, web.Crumb{Label: title})
	s.render(w, r, status, web.UserForm(web.UserFormView{Page: p, Form: f, Roles: roleOptions(), User: u, TempPassword: temp}))
}

func (s *Server) newUserPage(w http.ResponseWriter, r *http.Request) {
	f := emptyForm()
	f.Values["role"] = string(alm.RoleDeveloper)
	s.renderUserForm(w, r, http.StatusOK, nil, f, "")
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	f := formOf(r, "name", "email", "role", "password")
	n := alm.NewUser{Name: f.Value("name"), Email: f.Value("email"), Role: alm.Role(f.Value("role")), Password: f.Value("password")}
	u, err := s.auth.CreateUser(r.Context(), n, n.Password != "")
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderUserForm(w, r, statusOf(alm.ErrorCode(err)), nil, withError(f, err), "")
		return
	}
	s.redirect(w, r, "/admin/users", "ok", fmt.Sprintf("%s can now sign in as %s.", u.Email, u.Role.Label()))
}

func (s *Server) userFromPath(w http.ResponseWriter, r *http.Request) (alm.User, bool) {
	id, err := pathID(r)
	var u alm.User
	if err == nil {
		u, err = s.store.UserByID(r.Context(), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return u, false
	}
	return u, true
}

func userFormValues(u alm.User) web.Form {
	f := emptyForm()
	f.Values["name"], f.Values["role"] = u.Name, string(u.Role)
	if u.Disabled() {
		f.Values["disabled"] = "on"
	}
	return f
}

func (s *Server) editUserPage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userFromPath(w, r)
	if !ok {
		return
	}
	s.renderUserForm(w, r, http.StatusOK, &u, userFormValues(u), "")
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userFromPath(w, r)
	if !ok {
		return
	}
	f := formOf(r, "name", "role", "disabled")
	up := store.UserUpdate{Name: f.Value("name"), Role: alm.Role(f.Value("role")), Disabled: f.Checked("disabled")}
	err := validateUserUpdate(&up)
	if err == nil {
		_, err = s.store.UpdateUser(r.Context(), u.ID, up)
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderUserForm(w, r, statusOf(alm.ErrorCode(err)), &u, withError(f, err), "")
		return
	}
	s.redirect(w, r, "/admin/users", "ok", fmt.Sprintf("Saved %s.", u.Email))
}

func validateUserUpdate(up *store.UserUpdate) error {
	n := alm.NewUser{Email: "placeholder@example.com", Name: up.Name, Role: up.Role}
	n.Normalize()
	up.Name = n.Name
	return n.Validate(false)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userFromPath(w, r)
	if !ok {
		return
	}
	temp, err := s.auth.ResetPassword(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u, err = s.store.UserByID(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderUserForm(w, r, http.StatusOK, &u, userFormValues(u), temp)
}

func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userFromPath(w, r)
	if !ok {
		return
	}
	if err := s.store.UnlockUser(r.Context(), u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/admin/users/%d", u.ID), "ok", u.Email+" is unlocked.")
}
