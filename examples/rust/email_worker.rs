//! The seed's BullMQ email worker, ported: a producer adds `send-welcome` jobs (3 attempts,
//! exponential backoff from 1 s, completed jobs kept a day, failed ones a week) and a worker
//! sends them, 5 at a time, at most 100 per minute across every worker of the queue.
//! Throwing (returning an error) triggers a retry; one address fails its first attempt to
//! show it.
//!
//! Run against any Redis: `cargo run -p redkit-examples --bin email_worker -- redis://127.0.0.1:6379`
//! (the URL defaults to $REDIS_URL, then to redis://127.0.0.1:6379; `embedded://` needs no
//! server).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redkit::queue::{Backoff, Removal};
use redkit::worker::{processor_fn, WorkerEvent};
use redkit::{Client, HostError, JobOptions};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Email {
    to: String,
    subject: String,
    template: String,
}

/// Stands in for the mail provider: the first call for `flaky@example.com` fails.
async fn send_email(email: &Email, flaky_seen: &AtomicBool) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if email.to.starts_with("flaky") && !flaky_seen.swap(true, Ordering::SeqCst) {
        return Err("SMTP 421: try again later".into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> redkit::Result<()> {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("REDIS_URL").ok())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let client = Client::connect(&url).await?;

    // Producer: add jobs to the queue.
    let email_queue = client.queue("email")?;
    let opts = JobOptions::new()
        .attempts(3) // retry up to 3 times on failure
        .backoff(Backoff::exponential(Duration::from_secs(1))) // 1 s, 2 s, 4 s
        .remove_on_complete(Removal::KeepFor {
            age: Duration::from_secs(86_400), // remove completed jobs after 24 h
            count: None,
        })
        .remove_on_fail(Removal::KeepFor {
            age: Duration::from_secs(604_800), // keep failed jobs 7 days (for debugging)
            count: None,
        });
    let recipients = ["ada@example.com", "flaky@example.com", "grace@example.com"];
    for to in recipients {
        let email = Email {
            to: to.into(),
            subject: "Welcome to 47Network".into(),
            template: "welcome".into(),
        };
        let job = email_queue
            .add("send-welcome", &email, opts.clone())
            .await?;
        println!("queued job {} for {to}", job.id);
    }

    // Consumer: process jobs.
    let flaky_seen = Arc::new(AtomicBool::new(false));
    let worker = client
        .worker(
            "email",
            processor_fn(move |job, _cancel| {
                let flaky_seen = flaky_seen.clone();
                async move {
                    let email: Email = job
                        .data()
                        .map_err(|e| HostError::new("DecodeError", e.to_string()))?;
                    // An error triggers a retry (while attempts remain).
                    send_email(&email, &flaky_seen)
                        .await
                        .map_err(|e| HostError::new("SendError", e))?;
                    println!(
                        "sent {:?} ({}) to {} on attempt {}",
                        email.subject,
                        email.template,
                        email.to,
                        job.attempts_made + 1
                    );
                    Ok(b"\"sent\"".to_vec())
                }
            }),
        )
        .concurrency(5) // process 5 jobs simultaneously
        .limiter(100, Duration::from_secs(60)) // at most 100 jobs per minute, all workers
        .autorun(false)
        .build()?;
    let mut events = worker.events();
    worker.start()?;

    let mut done = 0;
    while done < recipients.len() {
        match events.next().await {
            Some(WorkerEvent::Completed { job_id, .. }) => {
                done += 1;
                println!("completed job {job_id}");
            }
            Some(WorkerEvent::Failed {
                job_id,
                reason,
                will_retry,
                ..
            }) => {
                println!("job {job_id} failed: {reason} (retried: {will_retry})");
                if !will_retry {
                    done += 1;
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    worker.close(true).await;
    let counts = email_queue.counts().await?;
    println!(
        "queue: {} completed, {} failed, {} waiting",
        counts.completed, counts.failed, counts.waiting
    );
    Ok(())
}
