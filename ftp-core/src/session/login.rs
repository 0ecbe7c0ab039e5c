//! Greeting and login: `HOST`, `USER`, `PASS`, `ACCT`, then `FEAT` and `OPTS UTF8 ON`
//! (RFC 959 §4.1.1, RFC 7151, RFC 2389, RFC 2640).

use std::time::Instant;

use crate::command::Command;
use crate::reply::decode;
use crate::reply::{Reply, ReplyClass};

use super::machine::{class, err, Flow, Op};
use super::{OpError, Outcome, Session};

pub(super) struct Login {
    user: String,
    password: String,
    account: Option<String>,
    stage: LoginStage,
    /// The reply that completed the login (kept while FEAT/OPTS run).
    result: Option<Reply>,
}

/// Secrets stay out of `{:?}` of a [`Session`] (drivers log it; `PASS` and `ACCT` are
/// sensitive, see [`Command::is_sensitive`]).
impl core::fmt::Debug for Login {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("account", &self.account.as_ref().map(|_| "<hidden>"))
            .field("stage", &self.stage)
            .field("result", &self.result)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoginStage {
    Host,
    User,
    Pass,
    Acct,
    Feat,
    Opts,
}

impl Login {
    pub(super) fn new(user: String, password: String, account: Option<String>) -> Login {
        // ftplib's login(): '' means anonymous, whose empty (or '-') password is 'anonymous@'.
        let user = if user.is_empty() {
            "anonymous".to_owned()
        } else {
            user
        };
        let password = if user == "anonymous" && (password.is_empty() || password == "-") {
            "anonymous@".to_owned()
        } else {
            password
        };
        Login {
            user,
            password,
            account,
            stage: LoginStage::User,
            result: None,
        }
    }

    /// The login starting with `HOST` (already sent).
    pub(super) fn at_host(mut self: Box<Self>) -> Box<Self> {
        self.stage = LoginStage::Host;
        self
    }

    pub(super) fn user(&self) -> &str {
        &self.user
    }
    pub(super) fn password(&self) -> &str {
        &self.password
    }
    pub(super) fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }
}

impl Session {
    /// Starts a login: `HOST` first when configured and not sent yet, else `USER`.
    pub(super) fn start_login(&mut self, now: Instant, login: Login) -> Op {
        let login = Box::new(login);
        // A new login may reset the server's state: forget what we knew.
        self.cur_type = None;
        if self.send_host(now) {
            Op::Login(login.at_host())
        } else {
            self.send(now, Command::User(login.user().into()));
            Op::Login(login)
        }
    }

    /// The greeting's final reply: 2xx welcomes, anything else refuses service.
    pub(super) fn greeting_reply(&mut self, reply: Reply) -> Flow {
        if class(&reply) == ReplyClass::Completion {
            self.welcome = Some(reply.clone());
            Flow::Done(Ok(Outcome::Greeting(reply)))
        } else {
            // A server that refuses service: nothing else can follow.
            Flow::DoneAndClose(Err(OpError::from_reply(reply)))
        }
    }

    /// Sends `HOST` if configured and not sent yet; returns whether it did.
    pub(super) fn send_host(&mut self, now: Instant) -> bool {
        if self.host_sent {
            return false;
        }
        let Some(host) = self.config.host.take() else {
            return false;
        };
        self.send(now, Command::Host(host.as_str().into()));
        self.config.host = Some(host);
        self.host_sent = true;
        true
    }

    pub(super) fn login_reply(
        &mut self,
        now: Instant,
        mut login: Box<Login>,
        reply: Reply,
    ) -> Flow {
        let code = reply.code().get();
        let cls = class(&reply);
        match login.stage {
            LoginStage::Host => {
                // RFC 7151 §3: 220 accepts; a server without HOST (500/502) is tolerated.
                if cls == ReplyClass::Completion || code == 500 || code == 502 {
                    self.send(now, Command::User(login.user.as_str().into()));
                    login.stage = LoginStage::User;
                    Flow::Wait(Op::Login(login))
                } else {
                    err(reply)
                }
            }
            LoginStage::User | LoginStage::Pass | LoginStage::Acct => match cls {
                ReplyClass::Completion => self.logged_in(now, login, reply),
                ReplyClass::Intermediate => {
                    if code == 332 || login.stage == LoginStage::Pass {
                        // 332: need account (RFC 959 §4.1.1).
                        if code != 332 || login.stage == LoginStage::Acct {
                            return err(reply);
                        }
                        match login.account.take() {
                            Some(acct) => {
                                self.send(now, Command::Acct(acct.as_str().into()));
                                login.stage = LoginStage::Acct;
                                Flow::Wait(Op::Login(login))
                            }
                            None => err(reply),
                        }
                    } else if login.stage == LoginStage::User {
                        self.send(now, Command::Pass(login.password.as_str().into()));
                        login.stage = LoginStage::Pass;
                        Flow::Wait(Op::Login(login))
                    } else {
                        err(reply)
                    }
                }
                _ => err(reply),
            },
            LoginStage::Feat => {
                if cls == ReplyClass::Completion {
                    if let Ok(f) = decode::feat(reply.as_ref()) {
                        let utf8 = f.contains("UTF8");
                        self.features = Some(f);
                        if utf8 {
                            self.send(now, Command::Opts("UTF8 ON".into()));
                            login.stage = LoginStage::Opts;
                            return Flow::Wait(Op::Login(login));
                        }
                    }
                }
                Flow::Done(Ok(Outcome::LoggedIn(login.result.take().unwrap_or(reply))))
            }
            LoginStage::Opts => {
                // Pure-FTPd answers 504 although it offers UTF8: ignored.
                Flow::Done(Ok(Outcome::LoggedIn(login.result.take().unwrap_or(reply))))
            }
        }
    }

    fn logged_in(&mut self, now: Instant, mut login: Box<Login>, reply: Reply) -> Flow {
        if self.config.auto_feat {
            login.result = Some(reply);
            login.stage = LoginStage::Feat;
            self.send(now, Command::Feat);
            Flow::Wait(Op::Login(login))
        } else {
            Flow::Done(Ok(Outcome::LoggedIn(reply)))
        }
    }
}
