//! The `default` rule pack (version 1.1.0; `CHANGELOG.md` at the workspace root says what each version changed): rule metadata, and the two phases of evaluation.
//!
//! Phase one (`extract`) reads one item and produces a [`Check`] per applicable rule. Most checks
//! are decided at once; three need other resources of the same input (the account-level public
//! access block, the instance's volumes), so they carry just enough evidence to be decided in
//! phase two (`Check::resolve`) once the whole input has been read. This keeps memory
//! proportional to the number of resources, not to the size of the raw items.

mod ec2;
pub mod frameworks;
mod iam;
mod policy;
mod s3;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use crate::item::ConfigItem;

pub use s3::PublicAccessFlags;

/// Rule pack id, part of every report's provenance.
pub const RULE_PACK_ID: &str = "default";
/// Rule pack version; bump it whenever any rule's semantics change.
pub const RULE_PACK_VERSION: &str = "1.2.0";
/// Tag keys `ec2-required-tags` demands unless the scan options say otherwise.
pub const DEFAULT_REQUIRED_TAGS: [&str; 2] = ["CostCenter", "Compliance"];

/// How bad a violation of a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Weight 10.
    Critical,
    /// Weight 6.
    High,
    /// Weight 3.
    Medium,
    /// Weight 1.
    Low,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

    /// Scoring weight (SPEC §5).
    pub fn weight(self) -> u64 {
        match self {
            Severity::Critical => 10,
            Severity::High => 6,
            Severity::Medium => 3,
            Severity::Low => 1,
        }
    }

    /// Lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// A finding's status, in AWS Config's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// The rule holds.
    Compliant,
    /// The rule is violated.
    NonCompliant,
    /// The rule does not apply to this resource (e.g. a terminated instance).
    NotApplicable,
    /// The evidence needed to decide is missing from the input.
    InsufficientData,
}

impl Status {
    /// Config's spelling, e.g. `NON_COMPLIANT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "COMPLIANT",
            Status::NonCompliant => "NON_COMPLIANT",
            Status::NotApplicable => "NOT_APPLICABLE",
            Status::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// Static description of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDef {
    /// Stable public id, e.g. `s3-bucket-sse-kms`.
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// Resource types the rule evaluates.
    pub resource_types: &'static [&'static str],
    /// Severity of a violation.
    pub severity: Severity,
    /// Whether the product can fix a violation automatically.
    pub remediable: bool,
    /// What makes a resource compliant.
    pub compliant_when: &'static str,
    /// What an engineer should do about a violation.
    pub remediation: &'static str,
}

const S3: &[&str] = &["AWS::S3::Bucket"];
const INSTANCE: &[&str] = &["AWS::EC2::Instance"];
const IAM_ALL: &[&str] = &["AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"];

/// Every rule of the pack, in id order within each family.
pub const RULES: [RuleDef; 17] = [
    RuleDef { id: "s3-bucket-sse-kms", title: "S3 default encryption uses KMS", resource_types: S3, severity: Severity::High, remediable: true,
        compliant_when: "a default-encryption rule uses aws:kms or aws:kms:dsse",
        remediation: "Set default encryption to SSE-KMS with bucket keys (the remediator does this automatically)." },
    RuleDef { id: "s3-bucket-public-access-blocked", title: "S3 public access fully blocked", resource_types: S3, severity: Severity::High, remediable: false,
        compliant_when: "all four public access block flags are true at bucket or account level",
        remediation: "Enable BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets on the bucket or the account." },
    RuleDef { id: "s3-bucket-no-public-acl", title: "S3 ACL grants nothing to everyone", resource_types: S3, severity: Severity::Critical, remediable: false,
        compliant_when: "no ACL grant to AllUsers or AuthenticatedUsers, or public ACLs are ignored",
        remediation: "Remove the AllUsers/AuthenticatedUsers grants, or enable IgnorePublicAcls; prefer bucket-owner-enforced object ownership." },
    RuleDef { id: "s3-bucket-ssl-only", title: "S3 bucket policy denies plain HTTP", resource_types: S3, severity: Severity::Medium, remediable: false,
        compliant_when: "the bucket policy denies s3:* to * when aws:SecureTransport is false",
        remediation: "Add a Deny statement for Principal * and Action s3:* with Condition Bool aws:SecureTransport false." },
    RuleDef { id: "s3-bucket-versioning-enabled", title: "S3 versioning enabled", resource_types: S3, severity: Severity::Medium, remediable: false,
        compliant_when: "versioning status is Enabled",
        remediation: "Enable versioning on the bucket (and a lifecycle rule for noncurrent versions)." },
    RuleDef { id: "s3-bucket-logging-enabled", title: "S3 server access logging enabled", resource_types: S3, severity: Severity::Low, remediable: false,
        compliant_when: "access logs are delivered to a target bucket",
        remediation: "Enable server access logging to a dedicated log bucket." },
    RuleDef { id: "ec2-imdsv2-required", title: "EC2 instance requires IMDSv2", resource_types: INSTANCE, severity: Severity::High, remediable: false,
        compliant_when: "metadataOptions.httpTokens is required",
        remediation: "Run `aws ec2 modify-instance-metadata-options --http-tokens required` after checking the workload uses IMDSv2." },
    RuleDef { id: "ec2-no-public-ip", title: "EC2 instance has no public IP", resource_types: INSTANCE, severity: Severity::High, remediable: false,
        compliant_when: "no public (or carrier) IP on the instance, its network interfaces, or their secondary private addresses",
        remediation: "Move the instance to a private subnet behind a load balancer or NAT; release public addresses." },
    RuleDef { id: "ec2-instance-ebs-encrypted", title: "EC2 instance volumes encrypted", resource_types: INSTANCE, severity: Severity::Medium, remediable: false,
        compliant_when: "every attached EBS volume is recorded and encrypted",
        remediation: "Snapshot the volume, copy the snapshot with encryption, and swap in a volume created from it; enable EBS encryption by default." },
    RuleDef { id: "ec2-required-tags", title: "EC2 instance carries required tags", resource_types: INSTANCE, severity: Severity::Low, remediable: false,
        compliant_when: "every required tag is present with a non-empty value",
        remediation: "Add the missing tags (by default CostCenter and Compliance)." },
    RuleDef { id: "ec2-volume-encrypted", title: "EBS volume encrypted", resource_types: &["AWS::EC2::Volume"], severity: Severity::Medium, remediable: false,
        compliant_when: "the volume is encrypted",
        remediation: "Replace the volume with an encrypted copy; enable EBS encryption by default in the region." },
    RuleDef { id: "ec2-sg-no-public-admin-ports", title: "Security group keeps SSH/RDP private", resource_types: &["AWS::EC2::SecurityGroup"], severity: Severity::High, remediable: false,
        compliant_when: "no ingress from a world-open range (IPv4 or IPv6 prefix length 0) covers port 22 or 3389",
        remediation: "Restrict the ingress rule to known CIDRs, or use SSM Session Manager instead of open SSH/RDP." },
    RuleDef { id: "iam-no-admin-access", title: "IAM policy grants no full admin", resource_types: IAM_ALL, severity: Severity::Critical, remediable: false,
        compliant_when: "no Allow statement grants * on * (or * with NotResource)",
        remediation: "Replace Action * / Resource * with the specific actions and resources the principal needs." },
    RuleDef { id: "iam-no-wildcard-service-actions", title: "IAM policy names actions explicitly", resource_types: IAM_ALL, severity: Severity::Medium, remediable: false,
        compliant_when: "no Allow statement uses an action of the form service:* (any number of *)",
        remediation: "List the service's actions the principal needs instead of service:*." },
    RuleDef { id: "iam-no-allow-notaction", title: "IAM policy does not Allow with NotAction", resource_types: IAM_ALL, severity: Severity::Medium, remediable: false,
        compliant_when: "no Allow statement uses NotAction",
        remediation: "Rewrite the statement with an explicit Action list; NotAction with Allow grants every future action too." },
    RuleDef { id: "iam-role-trust-no-public-principal", title: "IAM role trusts no public principal", resource_types: &["AWS::IAM::Role"], severity: Severity::Critical, remediable: false,
        compliant_when: "no unconditional Allow in the trust policy for principal *",
        remediation: "Name the trusted accounts or services in the trust policy, or add conditions (aws:PrincipalOrgID, sts:ExternalId)." },
    RuleDef { id: "iam-user-no-direct-policies", title: "IAM user has no direct policies", resource_types: &["AWS::IAM::User"], severity: Severity::Low, remediable: false,
        compliant_when: "no managed or inline policy is attached to the user",
        remediation: "Attach permissions to a group or role and add the user to the group." },
];

/// Index into [`RULES`]; a finding stores this instead of the id string.
pub type RuleIndex = u8;

/// The index of the rule `id`, for ids the engine's own code names: evaluated while compiling
/// (in a `const`, or through `rule_id!`), so an id that is not in the pack fails the build
/// instead of its check being dropped. Ids read at run time go through [`rule_index`], which
/// answers `None` for an unknown one.
///
/// ```
/// use compliance_engine::rules::{RULES, index_of};
/// const KMS: u8 = index_of("s3-bucket-sse-kms");
/// assert_eq!(RULES[usize::from(KMS)].id, "s3-bucket-sse-kms");
/// ```
///
/// ```compile_fail
/// // One letter off: the build fails here, while compiling the constant.
/// const KMS: u8 = compliance_engine::rules::index_of("s3-bucket-sse-kmz");
/// ```
#[allow(clippy::panic, reason = "evaluated while compiling, where the panic is the build's error for an unknown id")]
pub const fn index_of(id: &str) -> RuleIndex {
    match rule_index(id) {
        Some(index) => index,
        None => panic!("a rule id the engine names is not in the rule pack"),
    }
}

/// The [`RuleIndex`] of a rule named in the engine's code, found while compiling.
macro_rules! rule_id {
    ($id:literal) => {
        const { $crate::rules::index_of($id) }
    };
}
pub(crate) use rule_id;

/// The rule with the given id, `None` for an id that is not in the pack: the one search for ids
/// read from input (waivers, framework mappings) and, through [`index_of`], for those the
/// engine's code names.
pub const fn rule_index(id: &str) -> Option<RuleIndex> {
    let mut rest: &[RuleDef] = &RULES;
    let mut index: RuleIndex = 0;
    while let Some((rule, after)) = rest.split_first() {
        let known = rule.id.as_bytes();
        // Equal texts: same length, and neither comes before the other.
        if known.len() == id.len() && !id_before(known, id.as_bytes()) && !id_before(id.as_bytes(), known) {
            return Some(index);
        }
        rest = after;
        index += 1;
    }
    None
}

/// The rule at `index` (indices come from [`rule_index`] or [`index_of`], so they are always in
/// range).
pub fn rule(index: RuleIndex) -> &'static RuleDef {
    RULES.get(usize::from(index)).unwrap_or(&RULES[0])
}

/// Where the rule at `index` comes when rules are ordered by id (a resource's findings are
/// listed in that order): sorting by this sorts by id without comparing strings.
pub fn id_rank(index: RuleIndex) -> u8 {
    ID_RANKS.get(usize::from(index)).copied().unwrap_or(0)
}

const ID_RANKS: [u8; RULES.len()] = id_ranks();

#[allow(clippy::indexing_slicing, reason = "evaluated while compiling: an index out of range fails the build")]
const fn id_ranks() -> [u8; RULES.len()] {
    let mut ranks = [0u8; RULES.len()];
    let mut i = 0;
    while i < RULES.len() {
        let mut j = 0;
        while j < RULES.len() {
            if id_before(RULES[j].id.as_bytes(), RULES[i].id.as_bytes()) {
                ranks[i] += 1;
            }
            j += 1;
        }
        i += 1;
    }
    ranks
}

/// Whether text `a` comes before text `b`, byte by byte (a prefix before the longer text).
const fn id_before(mut a: &[u8], mut b: &[u8]) -> bool {
    while let (Some((x, a_rest)), Some((y, b_rest))) = (a.split_first(), b.split_first()) {
        if *x != *y {
            return *x < *y;
        }
        (a, b) = (a_rest, b_rest);
    }
    a.len() < b.len()
}

/// Parameters of rules that take them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleParams {
    /// Tag keys `ec2-required-tags` demands.
    pub required_tags: Vec<String>,
}

impl Default for RuleParams {
    fn default() -> Self {
        Self { required_tags: DEFAULT_REQUIRED_TAGS.iter().map(|s| (*s).to_owned()).collect() }
    }
}

/// Text of a finding: most messages and paths are the same for every resource, and sharing
/// those instead of copying them per finding is most of the memory a large scan needs.
pub type Text = Cow<'static, str>;

/// A decided finding for one rule on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The verdict.
    pub status: Status,
    /// Why, in words an engineer can act on.
    pub message: Text,
    /// JSON path of the value that decided it (empty when the decision is about absence of the whole item).
    pub path: Text,
}

impl Outcome {
    fn new(status: Status, path: impl Into<Text>, message: impl Into<Text>) -> Self {
        Self { status, message: message.into(), path: path.into() }
    }
}

/// Evidence for one rule on one resource: decided, or waiting for the rest of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Decided from the item alone.
    Done(Outcome),
    /// `s3-bucket-public-access-blocked`: the bucket-level flags; account level comes later.
    BucketPublicAccess(PublicAccessFlags),
    /// `s3-bucket-no-public-acl`: the first public grant (path, grantee) if any, and the bucket's `ignorePublicAcls`.
    BucketAcl {
        /// Path and grantee of the first public grant.
        public_grant: Option<(String, String)>,
        /// Bucket-level `ignorePublicAcls`.
        bucket_ignore: Option<bool>,
    },
    /// `ec2-instance-ebs-encrypted`: (path, volume id) of each attached EBS volume.
    InstanceVolumes(Vec<(String, String)>),
}

/// What phase two knows about the whole input.
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// Account id → account-level public access block flags.
    pub account_public_access: BTreeMap<String, PublicAccessFlags>,
    /// EBS volume id → encrypted. Only looked up, never walked, so its order cannot show in a
    /// report: hashed (with fixed keys) rather than searched, which took fifteen-odd text
    /// comparisons per attached volume.
    pub volumes: Volumes,
}

/// EBS volume id → encrypted (see [`Context::volumes`]).
pub type Volumes = HashMap<String, bool, BuildHasherDefault<WordHasher>>;

/// A hasher for short texts taken eight bytes a step (multiply and rotate, as rustc's
/// `FxHasher`): deterministic, and cheaper than std's SipHash (a native 100k-resource `finish`:
/// 219.7 M → 212.2 M instructions). Not for keys an attacker chooses to collide: a slow lookup
/// is all they could cause.
#[derive(Debug, Default, Clone, Copy)]
pub struct WordHasher(u64);

impl WordHasher {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(word);
            self.add(u64::from_le_bytes(eight));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut eight = [0u8; 8];
            if let Some(head) = eight.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(eight) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What an item tells the rules about *other* resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contribution {
    /// An `AWS::S3::AccountPublicAccessBlock` item's flags.
    AccountPublicAccess(PublicAccessFlags),
    /// An `AWS::EC2::Volume` item's encryption.
    VolumeEncrypted(bool),
}

/// The contribution of `item` to other resources' checks, if any.
pub fn contribution(item: &ConfigItem) -> Option<Contribution> {
    match item.resource_type {
        "AWS::S3::AccountPublicAccessBlock" => Some(Contribution::AccountPublicAccess(s3::account_flags(item))),
        "AWS::EC2::Volume" => Some(Contribution::VolumeEncrypted(ec2::volume_encrypted(item) == Some(true))),
        _ => None,
    }
}

impl Check {
    /// Decides the check with everything the input said.
    pub fn resolve(self, ctx: &Context, account_id: &str) -> Outcome {
        match self {
            Check::Done(outcome) => outcome,
            Check::BucketPublicAccess(bucket) => s3::resolve_public_access(&bucket, ctx.account_public_access.get(account_id)),
            Check::BucketAcl { public_grant, bucket_ignore } => {
                let account_ignore = ctx.account_public_access.get(account_id).and_then(|f| f.ignore_public_acls);
                s3::resolve_acl(public_grant, bucket_ignore, account_ignore)
            }
            Check::InstanceVolumes(volumes) => ec2::resolve_volumes(volumes, &ctx.volumes),
        }
    }
}

/// The parts of `before`, `n` in decimal, then the parts of `after`: what `format!` gives for
/// the same, in one allocation and without the formatting machinery, which costs several times
/// the copy (the rules build such paths and messages for most resources).
fn numbered(before: &[&str], n: usize, after: &[&str]) -> String {
    let mut buffer = [0; 20];
    let digits = crate::decimal::digits(n, &mut buffer);
    let length = before.iter().chain(after).map(|part| part.len()).sum::<usize>() + digits.len();
    let mut text = String::with_capacity(length);
    before.iter().for_each(|part| text.push_str(part));
    text.extend(digits.iter().map(|&digit| char::from(digit)));
    after.iter().for_each(|part| text.push_str(part));
    text
}

/// `text` split at the first `byte`, an ASCII byte, as `split_once` splits it: by a byte loop,
/// which costs less than `str`'s searcher inside the component on the short texts the rules
/// split (IAM actions, CIDR ranges).
fn split_at_first(text: &str, byte: u8) -> Option<(&str, &str)> {
    debug_assert!(byte.is_ascii());
    let at = text.bytes().position(|b| b == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// Phase one: the checks of every rule that applies to the item's type (none for other types).
pub fn extract(item: &ConfigItem, params: &RuleParams) -> Vec<(RuleIndex, Check)> {
    match item.resource_type {
        "AWS::S3::Bucket" => s3::bucket_checks(item),
        "AWS::EC2::Instance" => ec2::instance_checks(item, params),
        "AWS::EC2::Volume" => ec2::volume_checks(item),
        "AWS::EC2::SecurityGroup" => ec2::security_group_checks(item),
        "AWS::IAM::Policy" | "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => iam::checks(item),
        _ => Vec::new(),
    }
}

/// Whether any rule of the pack evaluates this resource type.
pub fn evaluates(resource_type: &str) -> bool {
    RULES.iter().any(|r| r.resource_types.contains(&resource_type))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use serde_json::Value;

    /// Runs one item through both phases with an empty context.
    pub fn evaluate(item: Value) -> BTreeMap<&'static str, Outcome> {
        evaluate_with(item, &Context::default())
    }

    /// Runs one item through both phases with the given context.
    pub fn evaluate_with(item: Value, ctx: &Context) -> BTreeMap<&'static str, Outcome> {
        let arena = crate::value::test_arena();
        let item = ConfigItem::from_value(crate::value::Value::from_json(&item, arena), arena).ok().flatten().expect("test item normalises");
        extract(&item, &RuleParams::default())
            .into_iter()
            .map(|(index, check)| (rule(index).id, check.resolve(ctx, item.account_id)))
            .collect()
    }

    /// The status of one rule.
    pub fn status(results: &BTreeMap<&'static str, Outcome>, id: &str) -> Status {
        results.get(id).map(|o| o.status).expect("rule evaluated")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `split_at_first` splits where `split_once` splits, around multi-byte characters too.
    #[test]
    fn splits_at_the_first_byte_as_split_once_does() {
        for text in ["", ":", "s3:*", "s3:Get:Object", "*", "é:é", ":é", "é:", "10.0.0.0/8", "::/0", "a/b/c", "ü", "\u{7f}/"] {
            for byte in [b':', b'/'] {
                assert_eq!(split_at_first(text, byte), text.split_once(char::from(byte)), "{text:?} at {byte}");
            }
        }
    }

    /// `numbered` writes what `format!` writes: every number of up to three digits, each
    /// power of ten and the one before it, and the largest.
    #[test]
    fn numbered_texts_are_what_format_writes() {
        let powers = (0..20).map(|p| 10usize.checked_pow(p)).take_while(Option::is_some).flatten();
        let numbers: Vec<usize> = (0..1000).chain(powers.flat_map(|p| [p - 1, p, p + 1])).chain([usize::MAX]).collect();
        for n in numbers {
            assert_eq!(numbered(&["a.b[", "c"], n, &["].d", ""]), format!("a.b[c{n}].d"));
            assert_eq!(numbered(&[], n, &[]), n.to_string());
        }
    }

    #[test]
    fn the_word_hasher_tells_volume_ids_apart() {
        let hash = |text: &str| std::hash::BuildHasher::hash_one(&BuildHasherDefault::<WordHasher>::default(), text);
        // Volume ids (21 bytes: two words and a five-byte rest) that differ anywhere, and texts
        // that differ only in a rest shorter than a word or in its length.
        let ids: std::collections::BTreeSet<u64> = (0..20_000u64).map(|n| hash(&format!("vol-{:017x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4))).collect();
        assert_eq!(ids.len(), 20_000);
        let ids: std::collections::BTreeSet<u64> = (0..4096u64).map(|n| hash(&format!("vol-0123456789abc{n:04x}"))).collect();
        assert_eq!(ids.len(), 4096, "differing in the last bytes only");
        for (a, b) in [("a", "a\0"), ("", "\0"), ("vol-0a", "vol-0b"), ("12345678", "123456780")] {
            assert_ne!(hash(a), hash(b), "{a:?} and {b:?}");
        }
        let mut volumes = Volumes::default();
        volumes.insert("vol-a".to_owned(), true);
        assert_eq!((volumes.get("vol-a"), volumes.get("vol-b")), (Some(&true), None));
    }

    #[test]
    fn ranks_order_rules_as_their_ids_do() {
        let mut by_rank: Vec<RuleIndex> = (0..RULES.len()).map(|i| RuleIndex::try_from(i).expect("few rules")).collect();
        by_rank.sort_by_key(|i| id_rank(*i));
        let mut by_id = by_rank.clone();
        by_id.sort_by_key(|i| rule(*i).id);
        assert_eq!(by_rank, by_id);
        let mut ranks: Vec<u8> = by_rank.iter().map(|i| id_rank(*i)).collect();
        ranks.dedup();
        assert_eq!(ranks.len(), RULES.len(), "one rank per rule");
    }

    #[test]
    fn ids_named_in_code_are_the_rules_indexes() {
        for (at, def) in RULES.iter().enumerate() {
            assert_eq!(Some(index_of(def.id)), rule_index(def.id));
            assert_eq!(usize::from(index_of(def.id)), at, "{}", def.id);
        }
        assert_eq!(rule(rule_id!("iam-user-no-direct-policies")).id, "iam-user-no-direct-policies");
    }
}
