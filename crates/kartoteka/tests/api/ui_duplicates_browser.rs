//! The duplicates screens in Chromium: the search and bulk merge, a group resolved and
//! undone (skipped when Chromium is missing). Screenshots land in target/screenshots/.

use serde_json::json;

use crate::helpers::*;
use crate::ui_duplicates::*;
use crate::webdriver::Driver;
use crate::webdriver::{scripts_ready, until};

#[tokio::test]
async fn duplicates_are_searched_merged_in_bulk_resolved_and_undone_in_the_browser() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    kartoteka::demo::fill(&t.app, 60, 3, false).await.unwrap();
    let mut pair = Vec::new();
    for (first, city, phones) in [
        ("Zofia", "Kraków", vec!["600 123 456"]),
        ("Zofia", "Wieliczka", vec!["+48 600 123 456", "501 000 111"]),
    ] {
        pair.push(
            t.create(
                json!({"kind": "person", "first_name": first, "last_name": "Żak",
                            "city": city, "phones": phones, "emails": [format!("{city}@zak.pl")]}),
            )
            .await,
        );
    }
    for n in 0..3 {
        for _ in 0..2 {
            t.create(json!({"kind": "person", "last_name": format!("Bulk{n}"),
                            "phones": [format!("600 777 00{n}")]}))
                .await;
        }
    }
    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.click("header nav a[href='/duplicates']").await;
    b.wait_text("h1", "Duplicates").await;
    scripts_ready(&b).await;
    // Seven criteria at most: the eighth box waits.
    for k in ["email", "first_name", "last_name", "city", "nip", "pesel"] {
        b.click(&format!("input[name=criteria][value={k}]")).await;
    }
    assert_eq!(
        b.execute("return document.querySelector('input[name=criteria][value=regon]').disabled")
            .await,
        json!(true)
    );
    for k in ["email", "first_name", "last_name", "city", "nip", "pesel"] {
        b.click(&format!("input[name=criteria][value={k}]")).await;
    }
    b.click("form.dup-search button[type=submit]").await;
    until(
        &b,
        "return !!document.querySelector('#dup-results.job-done')",
    )
    .await;
    b.wait_text(".dup-counts", "Ready groups").await;
    b.screenshot("duplicates_results").await;

    // Resolve the Żak pair by hand: Wieliczka's city, the 501 number as default.
    let (a_id, b_id) = (id(&pair[0]), id(&pair[1]));
    b.click(&format!("tr:has(a[href='/records/{a_id}']) a.button"))
        .await;
    b.find("#merge-form table.merge-grid").await;
    scripts_ready(&b).await;
    b.click(&format!("input[name='field.city'][value='{b_id}']"))
        .await;
    b.wait_text("#merge-summary", "Wieliczka").await;
    b.click("input[name=default_phone][value='+48501000111']")
        .await;
    b.wait_text("#merge-summary", "+48501000111 (default)")
        .await;
    b.screenshot("duplicates_resolve").await;
    // Making B the main record turns A into a merged one.
    b.click(&format!("input[name='role.{b_id}'][value=main]"))
        .await;
    until(
        &b,
        &format!(
            "return !!document.querySelector(\"input[name='role.{a_id}'][value=merge]:checked\") \
             && document.querySelector('#merge-summary').textContent.includes('({b_id}) stays')"
        ),
    )
    .await;
    b.click(&format!("input[name='role.{a_id}'][value=main]"))
        .await;
    until(
        &b,
        &format!(
            "return document.querySelector('#merge-summary').textContent.includes('({a_id}) stays')"
        ),
    )
    .await;
    b.click("#merge-apply").await;
    b.wait_text(".dup-notice", "The group is resolved").await;
    let merged = record(&t, &a_id).await.unwrap();
    assert_eq!(merged["city"], "Wieliczka");
    assert_eq!(default_phone(&merged), "+48501000111");

    // Bulk merge of the ready groups, after the confirmation naming the counts.
    scripts_ready(&b).await;
    b.click("#bulk-merge").await;
    let ask = b.text("#bulk-merge-dialog").await;
    assert!(ask.contains("records will be merged"), "{ask}");
    b.click("#bulk-merge-dialog button[type=submit]").await;
    until(&b, "return !!document.querySelector('#dup-bulk.job-done')").await;
    b.wait_text("#dup-bulk", "Records removed").await;
    b.screenshot("duplicates_bulk").await;
    b.click("#dup-bulk a.job-open").await;
    b.wait_text(".dup-counts", "Resolved").await;

    // The journal: undo the hand-made merge after the confirmation.
    b.go("/duplicates/operations").await;
    scripts_ready(&b).await;
    b.screenshot("duplicates_operations").await;
    b.click(&format!("tr:has(a[href='/records/{a_id}']) button.undo"))
        .await;
    b.click(&format!(
        "tr:has(a[href='/records/{a_id}']) dialog button[type=submit]"
    ))
    .await;
    b.wait_text(".dup-notice", "was undone").await;
    assert_eq!(record(&t, &b_id).await.unwrap()["city"], "Wieliczka");
    assert_eq!(record(&t, &a_id).await.unwrap()["city"], "Kraków");

    // The list's selection opens the same screen.
    b.go(&format!("/records?q={}", "%C5%BBak")).await;
    scripts_ready(&b).await;
    b.click(&format!("input.sel-row[value='{a_id}']")).await;
    assert_eq!(
        b.execute("return document.getElementById('sel-merge').hidden")
            .await,
        json!(true),
        "one row is not a merge"
    );
    b.click(&format!("input.sel-row[value='{b_id}']")).await;
    b.click("#sel-merge").await;
    b.find("#merge-form table.merge-grid").await;
    b.wait_url("/duplicates/merge?ids=").await;
    assert_eq!(b.count("table.merge-grid thead th.rec").await, 2);
    b.quit().await;
}

#[tokio::test]
async fn a_search_whose_groups_were_removed_is_run_again_from_its_screen() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = spawn_app_with(|c| c.duplicate_search_days = 0).await;
    for phone in ["606 000 000", "+48 606 000 000"] {
        t.create(json!({"kind": "person", "last_name": "Żak", "phones": [phone]}))
            .await;
    }
    let (sid, _) =
        crate::duplicates::search(&t, &t.admin_token, json!({"criteria": ["phone"]})).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    t.app.purge_duplicate_searches().await.unwrap();
    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.go(&format!("/duplicates/{sid}")).await;
    b.wait_text(".dup-purged", "were removed on").await;
    b.screenshot("duplicates_purged").await;
    b.click("#dup-rerun").await;
    until(
        &b,
        "return !!document.querySelector('#dup-results.job-done .dup-counts')",
    )
    .await;
    assert_ne!(b.url().await, t.url(&format!("/duplicates/{sid}")));
    b.quit().await;
}
