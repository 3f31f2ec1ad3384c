package handlers

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/salesbridge/salesbridge/models"
)

// Me answers who the caller is.
type Me struct {
	Store *models.Store
}

// UserResponse is a sales user as the API shows it.
type UserResponse struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
	Role        string `json:"role"`
	TimeZone    string `json:"timeZone"`
}

// ToUserResponse converts a stored user.
func ToUserResponse(u *models.User) UserResponse {
	return UserResponse{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Role: u.Role, TimeZone: u.TimeZone}
}

// MeResponse is GET /api/v1/me.
type MeResponse struct {
	User UserResponse `json:"user"`
}

// Register mounts the routes.
func (h *Me) Register(authed *gin.RouterGroup) {
	authed.GET("/me", Tx(h.Store, h.get))
}

func (h *Me) get(c *gin.Context, ctx context.Context) (Result, error) {
	var u models.User
	if err := h.Store.DB(ctx).First(&u, Caller(c).UserID).Error; err != nil {
		return Result{}, err
	}
	return OK(MeResponse{User: ToUserResponse(&u)}), nil
}
