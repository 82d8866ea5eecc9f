//! The classes of options: what an option can change. Apart from [`super::classify`], which gives
//! every key its class, so that an engine ([`super::engine`]) can declare the classes of its own
//! keys without depending on the classifier.

named_enum! {
    names = "kebab-case";
    /// What an option can change, by which `check` explains a changed plan and `diff` tells which
    /// differences matter.
    pub enum SettingClass {
        /// Can change the logical or physical plan.
        PlanShape,
        /// Read only while executing a plan that is already made.
        ExecutionOnly,
        /// Read only when writing files.
        Writer,
        /// Read only when printing results or plans.
        Display,
        /// Not a DataFusion option: read by dfpolicy itself (the namespace check, the statistics
        /// expectation, what a plan bundle captures), never by a session.
        DfpolicyOnly,
    }
}
