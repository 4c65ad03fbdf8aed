package service

import "github.com/toasttray/toasttray/app/settings"

func validSettings() settings.Settings {
	s := settings.Default()
	s.SiteURL, s.WSURL, s.Username = "https://www.example.com", "wss://ws.example.com/prod", "alice"
	return s
}
