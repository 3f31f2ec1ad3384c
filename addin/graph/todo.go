package graph

import (
	"context"
	"net/http"
	"net/url"
)

// DefaultTaskList finds the user's default To Do list ("Tasks"), the one
// task sync pairs with.
func (c *Client) DefaultTaskList(ctx context.Context, userID string) (*TodoTaskList, error) {
	var pg listPage[TodoTaskList]
	q := url.Values{"$filter": {"wellknownListName eq 'defaultList'"}}
	if err := c.get(ctx, userID, "/me/todo/lists", q, nil, &pg); err != nil {
		return nil, err
	}
	for i := range pg.Value {
		if pg.Value[i].WellknownListName == "defaultList" {
			return &pg.Value[i], nil
		}
	}
	return nil, &Error{Kind: ErrNotFound, Method: http.MethodGet, Path: "/me/todo/lists", Message: "no default To Do list"}
}

func taskPath(listID, id string) string {
	p := itemPath("/me/todo/lists", listID) + "/tasks"
	if id != "" {
		p = itemPath(p, id)
	}
	return p
}

// GetTask reads one task.
func (c *Client) GetTask(ctx context.Context, userID, listID, id string) (*TodoTask, error) {
	var t TodoTask
	if err := c.get(ctx, userID, taskPath(listID, id), nil, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTask creates a task in a list. Like contacts, a create is not
// retried after a network error.
func (c *Client) CreateTask(ctx context.Context, userID, listID string, t *TodoTask) (*TodoTask, error) {
	var out TodoTask
	if err := c.write(ctx, userID, http.MethodPost, taskPath(listID, ""), t, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateTask patches a task.
func (c *Client) UpdateTask(ctx context.Context, userID, listID, id string, p Patch, opts ...WriteOption) (*TodoTask, error) {
	var out TodoTask
	if err := c.write(ctx, userID, http.MethodPatch, taskPath(listID, id), p, opts, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteTask deletes a task.
func (c *Client) DeleteTask(ctx context.Context, userID, listID, id string, opts ...WriteOption) error {
	return c.write(ctx, userID, http.MethodDelete, taskPath(listID, id), nil, opts, nil, nil)
}

// TasksDelta runs one delta round over a To Do list.
func (c *Client) TasksDelta(ctx context.Context, userID, listID string, opts DeltaOptions) (*DeltaResult[TodoTask], error) {
	return runDelta[TodoTask](ctx, c, userID, c.deltaCall(taskPath(listID, "")+"/delta", selectQuery(opts.Select), opts))
}
